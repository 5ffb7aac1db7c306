package io.quantgate.runtime.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantgate.kernels.format.Bf16;
import io.quantgate.kernels.format.Fp16;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One memory-mapped {@code .safetensors} file: an 8-byte little-endian header length {@code N}, {@code N}
 * bytes of UTF-8 JSON (possibly padded with trailing spaces), then the data region. The JSON maps each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the start of
 * the data region) and may hold a {@code "__metadata__"} map of strings.
 *
 * <p>{@link #open} validates the whole header before anything is read: the length is sane and inside the
 * file, the JSON is one object without duplicate keys or trailing garbage, every entry is well formed,
 * {@code end − begin} equals {@code product(shape) × dtype size}, every tensor lies inside the data region
 * and no two tensors overlap (gaps are tolerated). Tensor data is read only by {@link #floats}.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's cap; a larger "header" is a corrupt length, not a real header. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    public static final String METADATA_KEY = "__metadata__";

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Strict JSON: a duplicated tensor name or bytes after the object mean a corrupt header. */
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // decimals stay exact until a caller rounds them once (config.json floats must round-trip)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    /**
     * One tensor entry of the header.
     *
     * @param begin byte offset of the first element, relative to the data region
     * @param end   byte offset one past the last element
     */
    public record Tensor(String name, SafetensorsDtype dtype, int[] shape, long begin, long end) {
        public long elementCount() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }

        public long byteSize() {
            return end - begin;
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape) + " @[" + begin + ", " + end + ")";
        }
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final long dataStart;
    private final Map<String, String> metadata;
    private final Map<String, Tensor> tensors;

    private SafetensorsFile(Path file, Arena arena, MemorySegment mapped, long dataStart, Map<String, String> metadata,
                            Map<String, Tensor> tensors) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.dataStart = dataStart;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    /**
     * Maps and validates {@code file}.
     *
     * @throws IllegalArgumentException naming the file (and the tensor, where one is at fault) when the file
     *                                  cannot be read or is not a valid safetensors file
     */
    public static SafetensorsFile open(Path file) {
        Objects.requireNonNull(file, "file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapped;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < Long.BYTES) {
                    throw bad(file, "is truncated: " + size + " bytes, the header length alone needs 8");
                }
                mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            long size = mapped.byteSize();
            long headerLen = mapped.get(LE_LONG, 0);
            // unsigned u64 in the file: a negative long is a length beyond 2^63, as impossible as any other
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
                throw bad(file, "has an impossible header length " + Long.toUnsignedString(headerLen)
                        + " (expected 2.." + MAX_HEADER_BYTES + " bytes of JSON); this is not a safetensors file "
                        + "or its first 8 bytes are corrupt");
            }
            if (headerLen > size - Long.BYTES) {
                throw bad(file, "is truncated: its header length is " + headerLen + " bytes but only "
                        + (size - Long.BYTES) + " bytes follow the length field");
            }
            long dataStart = Long.BYTES + headerLen;
            long dataSize = size - dataStart;
            byte[] json = mapped.asSlice(Long.BYTES, headerLen).toArray(ValueLayout.JAVA_BYTE);
            JsonNode root;
            try {
                root = JSON.readTree(json);
            } catch (JsonProcessingException e) {
                throw bad(file, "has a header that is not valid JSON: " + e.getOriginalMessage());
            } catch (IOException e) {
                throw bad(file, "has an unreadable header: " + e.getMessage());
            }
            if (root == null || !root.isObject()) {
                throw bad(file, "has a header that is not a JSON object");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : root.properties()) {
                if (e.getKey().equals(METADATA_KEY)) {
                    readMetadata(file, e.getValue(), metadata);
                } else {
                    tensors.put(e.getKey(), readTensor(file, e.getKey(), e.getValue(), dataSize));
                }
            }
            checkNoOverlap(file, tensors.values());
            return new SafetensorsFile(file, arena, mapped, dataStart, Collections.unmodifiableMap(metadata),
                    Collections.unmodifiableMap(tensors));
        } catch (IOException e) {
            arena.close();
            throw bad(file, "cannot be mapped: " + e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) {
            throw bad(file, "has a " + METADATA_KEY + " entry that is not an object of strings: " + node);
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw bad(file, "has a non-string " + METADATA_KEY + " value '" + m.getKey() + "': " + m.getValue());
            }
            out.put(m.getKey(), m.getValue().textValue());
        }
    }

    private static Tensor readTensor(Path file, String name, JsonNode node, long dataSize) {
        String what = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw bad(file, "has a header entry for " + what + " that is not an object: " + node);
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw bad(file, what + " has no dtype string");
        }
        SafetensorsDtype dtype = SafetensorsDtype.fromHeader(dtypeNode.textValue()).orElseThrow(() -> bad(file,
                what + " has unsupported dtype " + dtypeNode.textValue() + " (the whole-byte safetensors dtypes "
                        + "are " + Arrays.toString(SafetensorsDtype.values()) + "; QuantGate reads "
                        + SafetensorsDtype.readable() + ")"));
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw bad(file, what + " has no shape array");
        }
        int[] shape = new int[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw bad(file, what + " has an impossible shape " + shapeNode + " (dimensions are integers 0.."
                        + Integer.MAX_VALUE + ")");
            }
            shape[i] = d.intValue();
            elements = multiply(file, what, elements, shape[i]);
        }
        JsonNode offs = node.get("data_offsets");
        if (offs == null || !offs.isArray() || offs.size() != 2) {
            throw bad(file, what + " has no data_offsets [begin, end] pair");
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = offs.get(i);
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw bad(file, what + " has impossible data_offsets " + offs);
            }
            be[i] = o.longValue();
        }
        if (be[1] < be[0]) {
            throw bad(file, what + " has data_offsets " + offs + " that end before they begin");
        }
        if (be[1] > dataSize) {
            throw bad(file, what + " has data_offsets " + offs + " beyond the data region of " + dataSize
                    + " bytes (the file is truncated or the offsets are corrupt)");
        }
        long expected = multiply(file, what, elements, dtype.bytes());
        if (be[1] - be[0] != expected) {
            throw bad(file, what + " has data_offsets " + offs + " spanning " + (be[1] - be[0]) + " bytes, but "
                    + dtype + Arrays.toString(shape) + " needs " + expected);
        }
        return new Tensor(name, dtype, shape, be[0], be[1]);
    }

    private static long multiply(Path file, String what, long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw bad(file, what + " is impossibly large (its byte size overflows 64 bits)");
        }
    }

    /** Sorted by start, each non-empty tensor must begin at or after the end of the previous one. */
    private static void checkNoOverlap(Path file, Iterable<Tensor> all) {
        List<Tensor> sorted = new ArrayList<>();
        all.forEach(t -> {
            if (t.byteSize() > 0) {
                sorted.add(t);
            }
        });
        sorted.sort(Comparator.comparingLong(Tensor::begin));
        for (int i = 1; i < sorted.size(); i++) {
            Tensor prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.begin() < prev.end()) {
                throw bad(file, "has overlapping tensors: '" + prev.name() + "' occupies [" + prev.begin() + ", "
                        + prev.end() + ") and '" + cur.name() + "' starts at " + cur.begin());
            }
        }
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException("safetensors file " + file + " " + what);
    }

    public Path file() {
        return file;
    }

    /** The {@code __metadata__} map (empty when the header has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every tensor, in header order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw bad(file, "has no tensor '" + name + "'");
        }
        return t;
    }

    /** The mapped little-endian bytes of a tensor (valid while this file is open). */
    public MemorySegment bytes(String name) {
        Tensor t = tensor(name);
        return mapped.asSlice(dataStart + t.begin(), t.byteSize());
    }

    /**
     * A heap copy of one tensor as fp32, row-major.
     *
     * @throws IllegalArgumentException naming the file and tensor when the tensor is absent, too large for one
     *                                  Java array, or of a dtype other than F32, F16 or BF16
     */
    public float[] floats(String name) {
        Tensor t = tensor(name);
        if (!t.dtype().isReadableAsFloat()) {
            throw bad(file, "tensor '" + name + "' has unsupported dtype " + t.dtype() + "; QuantGate reads "
                    + SafetensorsDtype.readable());
        }
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw bad(file, "tensor '" + name + "' has " + n + " elements, more than one Java array holds");
        }
        float[] out = new float[(int) n];
        long base = dataStart + t.begin();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(mapped, LE_FLOAT, base, out, 0, out.length);
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Fp16.toFloat(mapped.get(LE_SHORT, base + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Bf16.toFloat(mapped.get(LE_SHORT, base + 2L * i));
                }
            }
            default -> throw new IllegalStateException("unreachable: " + t.dtype());
        }
        return out;
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + tensors.size() + " tensors]";
    }
}
