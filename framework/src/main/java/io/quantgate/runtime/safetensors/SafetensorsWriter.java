package io.quantgate.runtime.safetensors;

import io.quantgate.results.model.AtomicFiles;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantgate.kernels.format.Bf16;
import io.quantgate.kernels.format.Fp16;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Writes one {@code .safetensors} file from float tensors stored as F32, F16 or BF16. The header lists
 * {@code __metadata__} first ({@code {"format": "pt"}}, which transformers requires, plus the caller's
 * entries), then the tensors in the order they were added, packed back to back in the data region in that
 * order. The JSON is padded with spaces (as the format allows) so that the data region starts at a
 * multiple of 8 bytes, which keeps every F32 tensor 4-byte aligned when mapped.
 *
 * <p>Tensor values are requested from their suppliers one at a time while writing, so a model larger than
 * the heap can be streamed out. The file is written atomically (temporary file + {@code ATOMIC_MOVE}).
 */
public final class SafetensorsWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    private record Entry(String name, SafetensorsDtype dtype, int[] shape, long elements, Supplier<float[]> values) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    public SafetensorsWriter() {
        metadata.put("format", "pt");
    }

    /** Adds a {@code __metadata__} entry; {@code "format"} stays {@code "pt"} (transformers refuses others). */
    public SafetensorsWriter metadata(String key, String value) {
        Objects.requireNonNull(key, "metadata key");
        Objects.requireNonNull(value, "metadata value of " + key);
        if (key.equals("format") && !value.equals("pt")) {
            throw new IllegalArgumentException("metadata 'format' must stay \"pt\" (the only value transformers "
                    + "loads as PyTorch weights), got \"" + value + "\"");
        }
        metadata.put(key, value);
        return this;
    }

    public SafetensorsWriter metadata(Map<String, String> more) {
        more.forEach(this::metadata);
        return this;
    }

    /**
     * Adds a tensor whose values are computed when the file is written.
     *
     * @param shape  its dimensions; {@code values} must then return exactly {@code product(shape)} floats
     * @param values every value must be finite and representable in {@code dtype}
     */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, int[] shape, Supplier<float[]> values) {
        Objects.requireNonNull(name, "tensor name");
        Objects.requireNonNull(dtype, "dtype of " + name);
        Objects.requireNonNull(values, "values of " + name);
        if (name.isEmpty() || name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new IllegalArgumentException("'" + name + "' cannot be a tensor name");
        }
        if (!dtype.isReadableAsFloat()) {
            throw new IllegalArgumentException("tensor '" + name + "': cannot write dtype " + dtype + "; QuantGate "
                    + "writes " + SafetensorsDtype.readable());
        }
        if (entries.containsKey(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' was added twice");
        }
        long elements = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: "
                        + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        entries.put(name, new Entry(name, dtype, shape.clone(), elements, values));
        return this;
    }

    public SafetensorsWriter add(String name, SafetensorsDtype dtype, int[] shape, float[] values) {
        float[] copy = values.clone();
        return add(name, dtype, shape, () -> copy);
    }

    /** The header JSON (unpadded) the file will start with. */
    byte[] headerJson() {
        ObjectNode root = SafetensorsFile.JSON.createObjectNode();
        ObjectNode meta = root.putObject(SafetensorsFile.METADATA_KEY);
        metadata.forEach(meta::put);
        long offset = 0;
        for (Entry e : entries.values()) {
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (int d : e.shape()) {
                shape.add(d);
            }
            long end = offset + e.elements() * e.dtype().bytes();
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        try {
            return SafetensorsFile.JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a header of plain strings and numbers", e);
        }
    }

    /**
     * Writes the file atomically.
     *
     * @throws IllegalArgumentException naming the file and tensor when a supplier returns the wrong number of
     *                                  values, a value is not finite or does not fit the dtype, or the file
     *                                  cannot be written (nothing is left at {@code file} then)
     */
    public void write(Path file) {
        byte[] json = headerJson();
        int pad = (int) ((8 - (Long.BYTES + json.length) % 8) % 8);
        byte[] header = Arrays.copyOf(json, json.length + pad);
        Arrays.fill(header, json.length, header.length, (byte) ' ');
        AtomicFiles.write(file, ch -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length);
            flush(ch, buf);
            writeFully(ch, ByteBuffer.wrap(header));
            for (Entry e : entries.values()) {
                writeTensor(file, ch, buf, e);
            }
        });
    }

    private static void writeTensor(Path file, FileChannel ch, ByteBuffer buf, Entry e) throws IOException {
        float[] v = e.values().get();
        if (v == null || v.length != e.elements()) {
            throw new IllegalArgumentException("writing " + file + ": tensor '" + e.name() + "' "
                    + Arrays.toString(e.shape()) + " needs " + e.elements() + " values, got "
                    + (v == null ? "null" : v.length));
        }
        for (int i = 0; i < v.length; i++) {
            if (buf.remaining() < Float.BYTES) {
                flush(ch, buf);
            }
            float x = v[i];
            if (!Float.isFinite(x)) {
                throw badValue(file, e, i, x, "is not finite");
            }
            switch (e.dtype()) {
                case F32 -> buf.putFloat(x);
                case F16 -> {
                    short bits = Fp16.toBits(x);
                    if (!Float.isFinite(Fp16.toFloat(bits))) {
                        throw badValue(file, e, i, x, "is beyond the F16 range (±" + Fp16.MAX + ")");
                    }
                    buf.putShort(bits);
                }
                case BF16 -> {
                    short bits = Bf16.toBits(x);
                    if (!Float.isFinite(Bf16.toFloat(bits))) {
                        throw badValue(file, e, i, x, "rounds to infinity in BF16");
                    }
                    buf.putShort(bits);
                }
                default -> throw new IllegalStateException("unreachable: " + e.dtype());
            }
        }
        flush(ch, buf);
    }

    private static IllegalArgumentException badValue(Path file, Entry e, int index, float x, String why) {
        return new IllegalArgumentException("writing " + file + ": value " + x + " at index " + index + " of tensor '"
                + e.name() + "' " + why + "; refusing to store it as " + e.dtype());
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        writeFully(ch, buf);
        buf.clear();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Names of the tensors added so far, in file order. */
    public List<String> names() {
        return new ArrayList<>(entries.keySet());
    }
}
