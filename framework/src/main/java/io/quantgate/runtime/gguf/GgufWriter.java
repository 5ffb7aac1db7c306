package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.Bf16;
import io.quantgate.kernels.format.Fp16;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaConfig.RopeScaling;
import io.quantgate.runtime.model.LlamaConfig.RopeStyle;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.TensorNames;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Writes GGUF version 3 files: metadata of every value type, tensor infos, and tensor data aligned to
 * {@code general.alignment} (32 unless set). Tensors are given either as already-encoded bytes of any
 * {@link GgmlType} ({@link #addTensor(String, GgmlType, int[], byte[])}) or as fp32 values that the writer
 * encodes as F32, F16, BF16, Q8_0 or Q4_0 ({@link #addTensor(String, GgmlType, int[], float[])}; Q8_0 and
 * Q4_0 exactly as ggml's {@code quantize_row_q8_0_ref}/{@code quantize_row_q4_0_ref}).
 * {@link #writeModel} writes a whole {@link ModelWeights} the way llama.cpp expects to load it.
 *
 * <p>Shapes are row-major, outermost first ({@code [rows, cols]}), as everywhere in QuantGate; the file
 * stores them reversed ({@code ne = [cols, rows]}). The file is written to a temporary file in the target
 * directory and moved into place atomically, so a reader never sees a half-written model.
 */
public final class GgufWriter {
    public static final int VERSION = 3;
    /** Rows are encoded and written in pieces of about this many bytes, to bound the heap used. */
    private static final int CHUNK_BYTES = 16 << 20;

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    /** A tensor to write: either {@code bytes} (encoded) or {@code values} (fp32, encoded when written). */
    private record Tensor(String name, GgmlType type, int[] shape, long byteSize, byte[] bytes,
                          Supplier<float[]> values) {
        long[] ne() {
            long[] ne = new long[shape.length];
            for (int i = 0; i < shape.length; i++) {
                ne[i] = shape[shape.length - 1 - i];
            }
            return ne;
        }

        long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /**
     * Adds (or replaces) a metadata pair. {@code value} is a {@link GgufValue}, or a plain Java value whose
     * type {@link GgufValue#infer} picks (use {@code GgufValue.uint32(..)} etc. for unsigned types).
     */
    public GgufWriter putMetadata(String key, Object value) {
        Objects.requireNonNull(key, "key");
        GgufValue v = GgufValue.infer(value);
        if (key.equals("general.alignment")) {
            long a = v.type() == GgufValueType.UINT32 ? (Long) v.value() : -1;
            if (a <= 0 || Long.bitCount(a) != 1 || a > (1 << 30)) {
                throw new IllegalArgumentException("general.alignment must be a UINT32 power of two, got " + v);
            }
        }
        metadata.put(key, v);
        return this;
    }

    public GgufWriter putAllMetadata(Map<String, ?> values) {
        values.forEach(this::putMetadata);
        return this;
    }

    /**
     * Adds a tensor whose data is already encoded as {@code type}: row-major rows of {@code shape[last]}
     * values, {@code type.rowBytes(shape[last])} bytes each.
     */
    public GgufWriter addTensor(String name, GgmlType type, int[] shape, byte[] data) {
        Objects.requireNonNull(data, "data");
        long bytes = plannedBytes(name, type, shape);
        if (bytes != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " data of shape "
                    + Arrays.toString(shape) + " takes " + bytes + " bytes, got " + data.length);
        }
        return add(new Tensor(name, type, shape.clone(), bytes, data.clone(), null));
    }

    /**
     * Adds a tensor of fp32 values to be stored as {@code type} (F32, F16, BF16, Q8_0 or Q4_0).
     *
     * @throws IllegalArgumentException when the type cannot be encoded here, the shape does not match, or
     *                                  (Q8_0/Q4_0) the rows are not whole blocks of 32 values
     */
    public GgufWriter addTensor(String name, GgmlType type, int[] shape, float[] values) {
        Objects.requireNonNull(values, "values");
        float[] copy = values.clone();
        Tensor t = floatTensor(name, type, shape, () -> copy);
        if (t.elements() != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds "
                    + t.elements() + " values, got " + values.length);
        }
        return add(t);
    }

    private Tensor floatTensor(String name, GgmlType type, int[] shape, Supplier<float[]> values) {
        if (type == GgmlType.Q4_K || type == GgmlType.Q6_K) {
            throw new IllegalArgumentException("tensor '" + name + "': QuantGate does not encode " + type
                    + "; add already-encoded bytes, or write F32, F16, BF16, Q8_0 or Q4_0");
        }
        return new Tensor(name, type, shape.clone(), plannedBytes(name, type, shape), null, values);
    }

    private GgufWriter add(Tensor t) {
        if (tensors.putIfAbsent(t.name(), t) != null) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' was already added");
        }
        return this;
    }

    private static long plannedBytes(String name, GgmlType type, int[] shape) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        if (shape == null || shape.length < 1 || shape.length > GgufFile.MAX_DIMS
                || Arrays.stream(shape).anyMatch(d -> d <= 0)) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " must have 1.." + GgufFile.MAX_DIMS + " positive dimensions");
        }
        int k = shape[shape.length - 1];
        if (k % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' " + Arrays.toString(shape) + " has rows of " + k
                    + " values, not a multiple of the " + type.blockSize() + "-value blocks " + type
                    + " stores; write it as F16 or F32");
        }
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            rows = Math.multiplyExact(rows, shape[i]);
        }
        return Math.multiplyExact(type.rowBytes(k), rows);
    }

    /** Writes the file atomically (temporary file in the same directory, then an atomic move). */
    public void write(Path out) {
        Objects.requireNonNull(out, "out");
        Path abs = out.toAbsolutePath();
        int alignment = metadata.containsKey("general.alignment")
                ? (int) (long) (Long) metadata.get("general.alignment").value() : GgufFile.DEFAULT_ALIGNMENT;
        io.quantgate.results.model.AtomicFiles.write(abs, ch -> writeAll(ch, alignment));
    }

    private void writeAll(FileChannel ch, int alignment) throws IOException {
        Header h = new Header();
        h.u32(GgufFile.MAGIC);
        h.u32(VERSION);
        h.u64(tensors.size());
        h.u64(metadata.size());
        metadata.forEach((k, v) -> {
            h.string(k);
            h.u32(v.type().id());
            h.value(v);
        });
        long offset = 0;
        for (Tensor t : tensors.values()) {
            h.string(t.name());
            long[] ne = t.ne();
            h.u32(ne.length);
            for (long d : ne) {
                h.u64(d);
            }
            h.u32(t.type().id());
            h.u64(offset);
            offset = GgufFile.pad(offset + t.byteSize(), alignment);
        }
        byte[] header = h.toByteArray();
        writeFully(ch, ByteBuffer.wrap(header));
        long pos = header.length;
        pos = pad(ch, pos, alignment);
        for (Tensor t : tensors.values()) {
            long start = pos;
            if (t.bytes() != null) {
                writeFully(ch, ByteBuffer.wrap(t.bytes()));
            } else {
                writeEncoded(ch, t);
            }
            pos = ch.position();
            if (pos - start != t.byteSize()) {
                throw new IllegalStateException("tensor '" + t.name() + "' wrote " + (pos - start) + " bytes, planned "
                        + t.byteSize());
            }
            pos = pad(ch, pos, alignment);
        }
    }

    private static void writeEncoded(FileChannel ch, Tensor t) throws IOException {
        float[] v = t.values().get();
        if (v.length != t.elements()) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': shape " + Arrays.toString(t.shape())
                    + " holds " + t.elements() + " values, got " + v.length);
        }
        int k = t.shape()[t.shape().length - 1];
        long rowBytes = t.type().rowBytes(k);
        int rowsPerChunk = (int) Math.max(1, CHUNK_BYTES / rowBytes);
        long rows = v.length / k;
        for (long r = 0; r < rows; r += rowsPerChunk) {
            int n = (int) Math.min(rowsPerChunk, rows - r);
            writeFully(ch, ByteBuffer.wrap(encode(t.type(), v, (int) (r * k), n * k, "tensor '" + t.name() + "'")));
        }
    }

    /** {@code n} values from {@code x[offset ..]} encoded as {@code type} (whole rows, so whole blocks). */
    static byte[] encode(GgmlType type, float[] x, int offset, int n, String what) {
        return switch (type) {
            case F32 -> {
                ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    b.putFloat(Blocks.finite(x[offset + i], offset + i, what));
                }
                yield b.array();
            }
            case F16 -> {
                ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    float v = Blocks.finite(x[offset + i], offset + i, what);
                    short bits = Fp16.toBits(v);
                    if (!Float.isFinite(Fp16.toFloat(bits))) {
                        throw new IllegalArgumentException(what + ": value " + v + " at index " + (offset + i)
                                + " is beyond fp16's range; write the tensor as F32 or BF16");
                    }
                    b.putShort(bits);
                }
                yield b.array();
            }
            case BF16 -> {
                ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    b.putShort(Bf16.toBits(Blocks.finite(x[offset + i], offset + i, what)));
                }
                yield b.array();
            }
            case Q8_0 -> BlockQ8_0.quantize(x, offset, n, what);
            case Q4_0 -> BlockQ4_0.quantize(x, offset, n, what);
            case Q4_K, Q6_K -> throw new IllegalArgumentException(what + ": QuantGate does not encode " + type);
        };
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static long pad(FileChannel ch, long pos, int alignment) throws IOException {
        long padded = GgufFile.pad(pos, alignment);
        if (padded > pos) {
            writeFully(ch, ByteBuffer.allocate((int) (padded - pos)));
        }
        return padded;
    }

    /** Little-endian serialization of the header. */
    private static final class Header extends ByteArrayOutputStream {
        void u32(long v) {
            for (int i = 0; i < 4; i++) {
                write((int) (v >>> (8 * i)));
            }
        }

        void u64(long v) {
            for (int i = 0; i < 8; i++) {
                write((int) (v >>> (8 * i)));
            }
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }

        void value(GgufValue v) {
            switch (v.type()) {
                case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> scalar(v.type(), ((Number) v.value()).longValue());
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v.value()));
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) v.value()));
                case BOOL -> write((Boolean) v.value() ? 1 : 0);
                case STRING -> string((String) v.value());
                case ARRAY -> array(v);
            }
        }

        private void scalar(GgufValueType type, long v) {
            switch (type.size()) {
                case 1 -> write((int) v);
                case 2 -> {
                    write((int) v);
                    write((int) (v >>> 8));
                }
                case 4 -> u32(v);
                default -> u64(v);
            }
        }

        private void array(GgufValue v) {
            GgufValueType et = v.elementType();
            u32(et.id());
            u64(v.length());
            switch (v.value()) {
                case byte[] a -> write(a, 0, a.length);
                case short[] a -> {
                    for (short x : a) {
                        scalar(et, x);
                    }
                }
                case int[] a -> {
                    for (int x : a) {
                        scalar(et, x);
                    }
                }
                case long[] a -> {
                    for (long x : a) {
                        scalar(et, x);
                    }
                }
                case float[] a -> {
                    for (float x : a) {
                        u32(Float.floatToRawIntBits(x));
                    }
                }
                case double[] a -> {
                    for (double x : a) {
                        u64(Double.doubleToRawLongBits(x));
                    }
                }
                case boolean[] a -> {
                    for (boolean x : a) {
                        write(x ? 1 : 0);
                    }
                }
                case List<?> l -> {
                    for (Object o : l) {
                        if (et == GgufValueType.STRING) {
                            string((String) o);
                        } else {
                            array((GgufValue) o);
                        }
                    }
                }
                default -> throw new AssertionError(v);
            }
        }
    }

    // ------------------------------------------------------------------ whole models

    /** llama.cpp's {@code llama_ftype} numbers for {@code general.file_type}. */
    private static int fileType(GgmlType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case Q4_K -> 15; // Q4_K_M
            case Q6_K -> 18;
            case BF16 -> 32;
        };
    }

    /**
     * Writes {@code weights} as a GGUF file llama.cpp can load: llama.cpp tensor names ({@link GgufNames}),
     * {@code general.*} and {@code <arch>.*} hyper-parameters, and {@code extraMetadata} (tokenizer
     * metadata, {@code general.name}, ...; these may override the generated pairs except the architecture).
     * Query/key rows are permuted when the weights' RoPE style is not the one llama.cpp uses for the
     * architecture (interleaved for llama/mistral, rotate-half for qwen2/qwen3); llama3 RoPE scaling is
     * written as llama.cpp's {@code rope_freqs.weight}.
     *
     * @param typeFor the storage type of each matrix by canonical name; vectors (norms, biases) are always
     *                F32, which llama.cpp requires of them
     * @throws IllegalArgumentException when the architecture is not one llama.cpp and QuantGate share, a
     *                                  tensor has no llama.cpp name, or a chosen type cannot hold a tensor
     *                                  (Q8_0/Q4_0 rows must be multiples of 32)
     */
    public static void writeModel(ModelWeights weights, Path out, Function<String, GgmlType> typeFor,
                                  Map<String, Object> extraMetadata) {
        writeModel(weights, out, typeFor, name -> null, extraMetadata);
    }

    /**
     * As {@link #writeModel(ModelWeights, Path, Function, Map)}, but {@code encoded} may hand over a matrix's
     * data already encoded in its {@code typeFor} type (e.g. QuantGate's own int8-g32 codes as Q8_0 blocks),
     * which is then stored as it is instead of being re-quantized from the floats; return null to encode
     * from the floats. Pre-encoded data is used only when no RoPE row reordering is needed.
     */
    public static void writeModel(ModelWeights weights, Path out, Function<String, GgmlType> typeFor,
                                  Function<String, byte[]> encoded, Map<String, Object> extraMetadata) {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(typeFor, "typeFor");
        Map<String, Object> extra = extraMetadata == null ? Map.of() : extraMetadata;
        String arch = weights.architecture();
        if (!GgufModelConfig.ARCHITECTURES.contains(arch)) {
            throw new IllegalArgumentException(weights.source() + ": architecture '" + arch
                    + "' cannot be written as GGUF (supported: " + GgufModelConfig.ARCHITECTURES + ")");
        }
        LlamaConfig c = weights.config();
        RopeStyle ggufStyle = GgufModelConfig.ropeStyle(arch);
        GgufWriter w = new GgufWriter();
        String a = arch + ".";
        w.putMetadata("general.architecture", arch);
        w.putMetadata("general.name", defaultName(weights.source()));
        w.putMetadata("general.file_type", GgufValue.uint32(0)); // placeholder keeping general.* together; set below
        w.putMetadata(a + "context_length", GgufValue.uint32(c.seqLen()));
        w.putMetadata(a + "embedding_length", GgufValue.uint32(c.dim()));
        w.putMetadata(a + "block_count", GgufValue.uint32(c.nLayers()));
        w.putMetadata(a + "feed_forward_length", GgufValue.uint32(c.hiddenDim()));
        w.putMetadata(a + "rope.dimension_count", GgufValue.uint32(c.headSize()));
        w.putMetadata(a + "attention.head_count", GgufValue.uint32(c.nHeads()));
        w.putMetadata(a + "attention.head_count_kv", GgufValue.uint32(c.nKvHeads()));
        if (c.headSize() * c.nHeads() != c.dim()) {
            w.putMetadata(a + "attention.key_length", GgufValue.uint32(c.headSize()));
            w.putMetadata(a + "attention.value_length", GgufValue.uint32(c.headSize()));
        }
        w.putMetadata(a + "attention.layer_norm_rms_epsilon", c.normEps());
        w.putMetadata(a + "rope.freq_base", c.ropeTheta());
        RopeScaling rs = c.ropeScaling();
        if (rs.type() == RopeScaling.Type.LINEAR) {
            w.putMetadata(a + "rope.scaling.type", "linear");
            w.putMetadata(a + "rope.scaling.factor", rs.factor());
        } else if (rs.type() == RopeScaling.Type.LLAMA3) {
            // llama.cpp reads llama3 scaling only as per-pair divisors; a scaling.factor key would add linear scaling
            w.putMetadata(a + "rope.scaling.original_context_length", GgufValue.uint32(rs.originalContext()));
        }
        for (Map.Entry<String, Object> e : extra.entrySet()) {
            if (e.getKey().equals("general.architecture") && !arch.equals(e.getValue())) {
                throw new IllegalArgumentException("extra metadata general.architecture=" + e.getValue()
                        + " contradicts the weights' architecture '" + arch + "'");
            }
            w.putMetadata(e.getKey(), e.getValue());
        }

        Map<GgmlType, Long> elementsByType = new EnumMap<>(GgmlType.class);
        for (Map.Entry<String, int[]> e : weights.shapes().entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            String gguf = GgufNames.toGguf(name).orElseThrow(() -> new IllegalArgumentException(weights.source()
                    + ": tensor '" + name + "' has no llama.cpp name"));
            GgmlType type;
            if (shape.length == 1) {
                type = GgmlType.F32;
            } else {
                type = typeFor.apply(name);
                if (type == null) {
                    throw new IllegalArgumentException("typeFor gave no type for tensor '" + name + "'");
                }
                elementsByType.merge(type, (long) shape[0] * shape[1], Long::sum);
            }
            Supplier<float[]> values = () -> ropeOrdered(weights, name, shape, c, ggufStyle);
            try {
                byte[] ready = shape.length == 2 && !needsReorder(name, c, ggufStyle) ? encoded.apply(name) : null;
                if (ready != null) {
                    w.addTensor(gguf, type, shape, ready);
                    continue;
                }
                w.add(w.floatTensor(gguf, type, shape, values));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(weights.source() + ": " + ex.getMessage() + " (canonical name '"
                        + name + "')", ex);
            }
        }
        if (rs.type() == RopeScaling.Type.LLAMA3) {
            float[] div = Llama3RopeFit.divisors(rs, c.headSize(), c.ropeTheta());
            w.addTensor(GgufModelConfig.ROPE_FREQS, GgmlType.F32, new int[] {div.length}, div);
        }
        GgmlType main = elementsByType.entrySet().stream().max(Map.Entry.comparingByValue())
                .map(Map.Entry::getKey).orElse(GgmlType.F32);
        if (!extra.containsKey("general.file_type")) {
            w.putMetadata("general.file_type", GgufValue.uint32(fileType(main)));
        }
        w.write(out);
    }

    private static boolean needsReorder(String name, LlamaConfig c, RopeStyle to) {
        String within = TensorNames.withinLayer(name);
        return c.ropeStyle() != to && (within.equals(TensorNames.Q) || within.equals(TensorNames.K));
    }

    /** The tensor's values, q/k rows (and biases, norms) reordered into the RoPE style GGUF uses for the arch. */
    private static float[] ropeOrdered(ModelWeights weights, String name, int[] shape, LlamaConfig c, RopeStyle to) {
        float[] v = weights.floats(name);
        String within = TensorNames.withinLayer(name);
        boolean qk = within.equals(TensorNames.Q) || within.equals(TensorNames.K)
                || within.equals(TensorNames.Q_BIAS) || within.equals(TensorNames.K_BIAS)
                || within.equals(TensorNames.Q_NORM) || within.equals(TensorNames.K_NORM);
        if (!qk || c.ropeStyle() == to) {
            return v;
        }
        int cols = shape.length == 2 ? shape[1] : 1;
        return RopeRowOrder.convert(v, shape[0], cols, c.headSize(), c.ropeStyle(), to);
    }

    private static String defaultName(Path source) {
        String n = source.getFileName() == null ? source.toString() : source.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
