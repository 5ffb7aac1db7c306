package io.quantgate.backend.onnxruntime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.quantgate.backend.BackendException;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;

import java.lang.foreign.ValueLayout;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One QuantGate linear layer as an ONNX Runtime session on the very same weights:
 * <ul>
 *   <li>{@code int4s-gN}: MatMulNBits bits 4, block N, codes XOR 0x88 per byte (the two's-complement nibble q
 *       becomes u = q + 8) and the default zero point 8: (u − 8)·s = q·s, bit-exact;</li>
 *   <li>{@code int4-gN}: MatMulNBits bits 4, the codes as stored (both lay K index 2j in the low nibble of byte j)
 *       and QuantGate's zero points packed two per byte: (q − z)·s, bit-exact;</li>
 *   <li>{@code int8-gN}: MatMulNBits bits 8, codes XOR 0x80 (u = q + 128), default zero point 128, bit-exact;</li>
 *   <li>{@code fp32} / {@code fp16}: MatMul on Wᵀ in that type (fp16 MatMul takes fp16 activations, ONNX's rule).</li>
 * </ul>
 * Scales are QuantGate's fp16 scales widened to fp32 (exact). {@code fp4}, {@code nf4} and {@code bf16} cannot run:
 * MatMulNBits dequantizes linearly, {@code (u − zp)·scale}, with no code book.
 */
final class OnnxLinear implements AutoCloseable {
    private final QuantizedMatrix w;
    private final OrtEnvironment env = OnnxEnvironment.get();
    private final OrtSession session;
    private final boolean halfInput;
    private final String describe;
    private final Map<Integer, OnnxTensor[]> io = new HashMap<>(); // M -> {A, Y}

    /** Why {@code id} on a K-column matrix has no exact ONNX Runtime form here, or empty. */
    static Optional<String> cannotRun(ConfigId id, int k) {
        int g = id.effectiveGroup(k);
        return switch (id.format()) {
            case FP32, FP16 -> Optional.empty();
            case INT8, INT4, INT4S -> k % g != 0 ? Optional.of("K = " + k + " is not a multiple of the group " + g
                    + " (a short last group is not mapped to MatMulNBits here)")
                    : Integer.bitCount(g) != 1 || g < 16 ? Optional.of("MatMulNBits needs a power-of-two block ≥ 16, "
                    + "the group is " + g) : Optional.empty();
            case BF16 -> Optional.of("ONNX Runtime's CPU MatMul has no bf16 kernel");
            case FP4, NF4 -> Optional.of("MatMulNBits dequantizes linearly, (u − zp)·scale; "
                    + id.format().name().toLowerCase(java.util.Locale.ROOT) + " needs a code book");
        };
    }

    static String describe(ConfigId id, int accuracyLevel) {
        return switch (id.format()) {
            case FP32 -> "ONNX Runtime MatMul fp32 on Wᵀ (exact)";
            case FP16 -> "ONNX Runtime MatMul fp16 on Wᵀ, fp16 activations (exact weights)";
            case INT4S -> "ONNX Runtime MatMulNBits 4-bit block " + id.group() + ", codes ^ 0x88, zero point 8, from "
                    + id + " (bit-exact), accuracy_level " + accuracyLevel;
            case INT4 -> "ONNX Runtime MatMulNBits 4-bit block " + id.group() + ", QuantGate's zero points, from " + id
                    + " (bit-exact), accuracy_level " + accuracyLevel;
            case INT8 -> "ONNX Runtime MatMulNBits 8-bit block " + id.group() + ", codes ^ 0x80, zero point 128, from "
                    + id + " (bit-exact), accuracy_level " + accuracyLevel;
            default -> throw new IllegalArgumentException("no ONNX form for " + id);
        };
    }

    /**
     * @param accuracyLevel MatMulNBits' compute type for A: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8
     * @param threads       intra-op threads (0: ONNX Runtime's default)
     */
    OnnxLinear(QuantizedMatrix w, int accuracyLevel, int threads) {
        this(w, accuracyLevel, threads, sessionConfig(System.getProperty(SESSION_CONFIG, "")));
    }

    /** Session config entries for every ORT session, {@code key=value;key=value} (e.g. to study its fast path). */
    static final String SESSION_CONFIG = "quantgate.onnx.session";

    static Map<String, String> sessionConfig(String spec) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String e : spec.split(";")) {
            if (e.isBlank()) {
                continue;
            }
            int eq = e.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException(SESSION_CONFIG + ": '" + e + "' is not key=value");
            }
            out.put(e.substring(0, eq).strip(), e.substring(eq + 1).strip());
        }
        return out;
    }

    /** @param sessionConfig ORT session config entries ({@code session.disable_prepacking}, ...) */
    OnnxLinear(QuantizedMatrix w, int accuracyLevel, int threads, Map<String, String> sessionConfig) {
        this.w = w;
        ConfigId id = w.config();
        int n = w.rows(), k = w.cols();
        cannotRun(id, k).ifPresent(r -> {
            throw new IllegalArgumentException("cannot run " + id + " on ONNX Runtime: " + r);
        });
        this.describe = describe(id, accuracyLevel);
        this.halfInput = id.format() == WeightFormat.FP16;
        byte[] model = switch (id.format()) {
            case FP32 -> OnnxGraphs.matMul(k, n, OnnxGraphs.FLOAT, transposed(4));
            case FP16 -> OnnxGraphs.matMul(k, n, OnnxGraphs.FLOAT16, transposed(2));
            case INT4, INT4S, INT8 -> nBits(accuracyLevel);
            default -> throw new IllegalStateException();
        };
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            if (OnnxEnvironment.perSessionThreads()) {
                if (threads > 0) {
                    o.setIntraOpNumThreads(threads);
                }
            } else {
                o.disablePerSessionThreads(); // the environment's one pool (OnnxEnvironment)
            }
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            for (Map.Entry<String, String> e : sessionConfig.entrySet()) {
                o.addConfigEntry(e.getKey(), e.getValue());
            }
            this.session = env.createSession(model, o);
        } catch (OrtException e) {
            throw new BackendException("ONNX Runtime refused the " + id + " graph [" + n + " × " + k + "]: " + e.getMessage(), e);
        }
    }

    String describe() {
        return describe;
    }

    QuantizedMatrix matrix() {
        return w;
    }

    /** Bytes of the weight initializers the graph holds: codes, fp32 scales and packed zero points, or dense B. */
    long weightBytes() {
        long n = w.rows(), k = w.cols();
        return switch (w.format()) {
            case FP32 -> n * k * 4;
            case FP16 -> n * k * 2;
            case INT8, INT4, INT4S -> {
                long blocks = k / w.groupSize();
                long codes = n * k * (w.format() == WeightFormat.INT8 ? 8 : 4) / 8;
                long zeros = w.format() == WeightFormat.INT4 ? n * ((blocks + 1) / 2) : 0;
                yield codes + n * blocks * Float.BYTES + zeros;
            }
            default -> throw new IllegalStateException("no ONNX form for " + w.config());
        };
    }

    /** W's stored codes, transposed to [K][N] (ONNX MatMul's B), {@code bytes} per value. */
    private byte[] transposed(int bytes) {
        int n = w.rows(), k = w.cols();
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(n, k), bytes)];
        var codes = w.codes();
        for (int r = 0; r < n; r++) {
            long row = r * w.rowBytes();
            for (int c = 0; c < k; c++) {
                for (int b = 0; b < bytes; b++) {
                    out[((c * n) + r) * bytes + b] = codes.get(ValueLayout.JAVA_BYTE, row + (long) c * bytes + b);
                }
            }
        }
        return out;
    }

    private byte[] nBits(int accuracyLevel) {
        int n = w.rows(), k = w.cols(), g = w.groupSize(), blocks = k / g;
        boolean eight = w.format() == WeightFormat.INT8;
        int bits = eight ? 8 : 4;
        int rowOut = blocks * g * bits / 8; // == k·bits/8 since g divides k
        byte[] b = new byte[n * rowOut];
        byte flip = (byte) (eight ? 0x80 : w.format() == WeightFormat.INT4S ? 0x88 : 0);
        var codes = w.codes();
        for (int r = 0; r < n; r++) {
            long row = r * w.rowBytes();
            for (int j = 0; j < rowOut; j++) {
                b[r * rowOut + j] = (byte) (codes.get(ValueLayout.JAVA_BYTE, row + j) ^ flip);
            }
        }
        float[] scales = new float[n * blocks];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < blocks; j++) {
                scales[r * blocks + j] = w.scale(r, j);
            }
        }
        byte[] zp = null;
        if (w.format() == WeightFormat.INT4) {
            int zRow = (blocks + 1) / 2;
            zp = new byte[n * zRow];
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < blocks; j++) {
                    zp[r * zRow + j / 2] |= (byte) (w.zero(r, j) << (4 * (j & 1)));
                }
            }
        }
        return OnnxGraphs.matMulNBits(k, n, bits, g, accuracyLevel, b, scales, zp);
    }

    /** {@code y = x · Wᵀ} for {@code m} rows of x (float, [m][K]; rounded to fp16 for an fp16 graph); returns [m][N]. */
    float[] apply(float[] x, int m) {
        tensors(m);
        ByteBuffer a = (ByteBuffer) buffers.get(m)[0];
        if (halfInput) {
            a.asShortBuffer().put(0, toHalf(x));
        } else {
            a.asFloatBuffer().put(0, x);
        }
        run(m);
        float[] y = new float[m * w.rows()];
        ByteBuffer yb = (ByteBuffer) buffers.get(m)[1];
        if (halfInput) {
            ShortBuffer s = yb.asShortBuffer();
            for (int i = 0; i < y.length; i++) {
                y[i] = Float.float16ToFloat(s.get(i));
            }
        } else {
            yb.asFloatBuffer().get(0, y);
        }
        return y;
    }

    private static short[] toHalf(float[] x) {
        short[] h = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            h[i] = Float.floatToFloat16(x[i]);
        }
        return h;
    }

    private final Map<Integer, Object[]> buffers = new HashMap<>();

    /** Input and pinned output tensors for batch m, over direct buffers that stay ours. */
    private OnnxTensor[] tensors(int m) {
        return io.computeIfAbsent(m, mm -> {
            int k = w.cols(), n = w.rows(), el = halfInput ? 2 : 4;
            ByteBuffer a = ByteBuffer.allocateDirect(mm * k * el).order(ByteOrder.nativeOrder());
            ByteBuffer y = ByteBuffer.allocateDirect(mm * n * el).order(ByteOrder.nativeOrder());
            buffers.put(mm, new Object[] {a, y});
            try {
                return halfInput
                        ? new OnnxTensor[] {OnnxTensor.createTensor(env, a.asShortBuffer(), new long[] {mm, k}, OnnxJavaType.FLOAT16),
                        OnnxTensor.createTensor(env, y.asShortBuffer(), new long[] {mm, n}, OnnxJavaType.FLOAT16)}
                        : new OnnxTensor[] {OnnxTensor.createTensor(env, a.asFloatBuffer(), new long[] {mm, k}),
                        OnnxTensor.createTensor(env, y.asFloatBuffer(), new long[] {mm, n})};
            } catch (OrtException e) {
                throw new BackendException("ONNX Runtime could not create tensors: " + e.getMessage(), e);
            }
        });
    }

    /**
     * {@code y = x · Wᵀ} between off-heap fp32 arrays: row i of x ({@code K} values at float offset {@code i·ldx}) is
     * copied into ONNX Runtime's input tensor (rounded to fp16 for an fp16 graph), the graph runs, and its output row i
     * is copied to y at float offset {@code i·ldy} — what a caller of ONNX Runtime pays too.
     */
    void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
        tensors(m);
        MemorySegment a = MemorySegment.ofBuffer((ByteBuffer) buffers.get(m)[0]);
        MemorySegment yb = MemorySegment.ofBuffer((ByteBuffer) buffers.get(m)[1]);
        int k = w.cols();
        int n = w.rows();
        for (long i = 0; i < m; i++) {
            if (halfInput) {
                for (long c = 0; c < k; c++) {
                    a.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i * k + c,
                            Float.floatToFloat16(x.getAtIndex(ValueLayout.JAVA_FLOAT, i * ldx + c)));
                }
            } else {
                MemorySegment.copy(x, i * ldx * Float.BYTES, a, i * k * Float.BYTES, (long) k * Float.BYTES);
            }
        }
        run(m);
        for (long i = 0; i < m; i++) {
            if (halfInput) {
                for (long r = 0; r < n; r++) {
                    y.setAtIndex(ValueLayout.JAVA_FLOAT, i * ldy + r,
                            Float.float16ToFloat(yb.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i * n + r)));
                }
            } else {
                MemorySegment.copy(yb, i * n * Float.BYTES, y, i * ldy * Float.BYTES, (long) n * Float.BYTES);
            }
        }
    }

    /** Fills the batch-m input with values derived from {@code seed} (benchmarks). */
    void fillInput(int m, long seed) {
        tensors(m);
        ByteBuffer a = (ByteBuffer) buffers.get(m)[0];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        if (halfInput) {
            ShortBuffer s = a.asShortBuffer();
            for (int i = 0; i < s.capacity(); i++) {
                s.put(i, Float.floatToFloat16((float) rnd.nextDouble(-1, 1)));
            }
        } else {
            FloatBuffer f = a.asFloatBuffer();
            for (int i = 0; i < f.capacity(); i++) {
                f.put(i, (float) rnd.nextDouble(-1, 1));
            }
        }
    }

    /** One run on the batch-m input into the pinned output. */
    void run(int m) {
        OnnxTensor[] t = tensors(m);
        try (OrtSession.Result r = session.run(Map.of("A", t[0]), Map.of("Y", t[1]))) {
            assert r != null;
        } catch (OrtException e) {
            throw new BackendException("ONNX Runtime failed on " + w.config() + " [" + w.rows() + " × " + w.cols()
                    + "], M = " + m + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        for (OnnxTensor[] t : io.values()) {
            t[0].close();
            t[1].close();
        }
        try {
            session.close();
        } catch (OrtException e) {
            throw new BackendException("ONNX Runtime could not close a session: " + e.getMessage(), e);
        }
    }
}
