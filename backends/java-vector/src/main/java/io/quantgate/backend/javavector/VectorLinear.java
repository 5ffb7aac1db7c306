package io.quantgate.backend.javavector;

import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * {@code y[T][N] = x[T][K] · Wᵀ} on a {@link QuantizedMatrix}'s own codes with the Vector API: each row is
 * dequantized into a K-float buffer (exactly the values of docs/formats.md: {@code q·s}, {@code (q−z)·s}) and then
 * dotted with every activation row, so prefill reuses a dequantized row T times and decode is the same code with
 * T = 1. fp32 activations (weight-only quantization). Rows are split over a fork-join pool.
 *
 * <p>4-bit rows are dequantized a chunk of 2L codes at a time (L = float lanes): the L low nibbles of L bytes are
 * the even K positions, the high nibbles the odd ones, written as [evens | odds]; the activations are permuted the
 * same way once per call, so the dot product needs no shuffles. The chunk lies inside one group whenever the group
 * is a multiple of 2L (every 4-bit group size at L ≤ 16) or the row is one group; a row's remainder past the last
 * whole chunk is done in natural order, scalar.
 */
final class VectorLinear {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** L byte lanes: one load converts to one float vector. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int ROWS_PER_TASK = 16;

    private final QuantizedMatrix w;
    private final int n;
    private final int k;
    private final int group;
    private final WeightFormat format;
    private final MemorySegment codes;
    private final long rowBytes;
    /** K positions covered by whole [evens | odds] chunks (4-bit formats); the rest is natural order. */
    private final int chunked;
    private final float[] scales; // [N][G], fp16 widened once
    private final byte[] zeros;   // [N][G] for int4

    VectorLinear(QuantizedMatrix w) {
        this.w = w;
        this.n = w.rows();
        this.k = w.cols();
        this.group = w.groupSize();
        this.format = w.format();
        this.codes = w.codes();
        this.rowBytes = w.rowBytes();
        boolean fourBit = format == WeightFormat.INT4 || format == WeightFormat.INT4S;
        boolean chunksInGroup = group % (2 * L) == 0 || w.groupsPerRow() == 1;
        this.chunked = fourBit && chunksInGroup ? k / (2 * L) * (2 * L) : 0;
        int g = w.groupsPerRow();
        if (format == WeightFormat.INT8 || fourBit) {
            scales = new float[n * g];
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < g; j++) {
                    scales[r * g + j] = w.scale(r, j);
                }
            }
        } else {
            scales = null;
        }
        if (format == WeightFormat.INT4) {
            zeros = new byte[n * g];
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < g; j++) {
                    zeros[r * g + j] = (byte) w.zero(r, j);
                }
            }
        } else {
            zeros = null;
        }
        if (!(format == WeightFormat.FP32 || format == WeightFormat.FP16 || format == WeightFormat.INT8 || fourBit)) {
            throw new IllegalArgumentException("the java backend has no kernel for " + format);
        }
    }

    int rows() {
        return n;
    }

    int cols() {
        return k;
    }

    long packedBytes() {
        return w.packedBytes();
    }

    /** {@code y[t*N + r]} for rows {@code t < T}; x is {@code [T][K]}. */
    void gemm(float[] x, int t, float[] y, ForkJoinPool pool) {
        float[] xs = chunked > 0 ? permute(x, t) : x;
        int tasks = (n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        ThreadLocal<float[]> buffers = ThreadLocal.withInitial(() -> new float[k]);
        pool.submit(() -> IntStream.range(0, tasks).parallel().forEach(task -> {
            float[] row = buffers.get();
            int end = Math.min(n, (task + 1) * ROWS_PER_TASK);
            for (int r = task * ROWS_PER_TASK; r < end; r++) {
                dequantizeRow(r, row);
                for (int i = 0; i < t; i++) {
                    y[i * n + r] = dot(row, xs, i * k);
                }
            }
        })).join();
    }

    private float[] permute(float[] x, int t) {
        float[] p = x.clone();
        for (int i = 0; i < t; i++) {
            int base = i * k;
            for (int c = 0; c < chunked; c += 2 * L) {
                for (int j = 0; j < L; j++) {
                    p[base + c + j] = x[base + c + 2 * j];
                    p[base + c + L + j] = x[base + c + 2 * j + 1];
                }
            }
        }
        return p;
    }

    private float dot(float[] row, float[] x, int off) {
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(k);
        int i = 0;
        for (; i < upper; i += L) {
            acc = FloatVector.fromArray(F, row, i).fma(FloatVector.fromArray(F, x, off + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) {
            s += row[i] * x[off + i];
        }
        return s;
    }

    /** Row r's dequantized weights (4-bit: [evens | odds] per whole chunk, natural order after). */
    void dequantizeRow(int r, float[] out) {
        long base = r * rowBytes;
        int g = w.groupsPerRow();
        switch (format) {
            case FP32 -> MemorySegment.copy(codes, LE_FLOAT, base, out, 0, k);
            case FP16 -> {
                for (int i = 0; i < k; i++) {
                    out[i] = Float.float16ToFloat(codes.get(LE_SHORT, base + 2L * i));
                }
            }
            case INT8 -> {
                for (int gs = 0, j = 0; gs < k; gs += group, j++) {
                    int ge = Math.min(k, gs + group);
                    float s = scales[r * g + j];
                    int i = gs;
                    for (; i + L <= ge; i += L) {
                        ((FloatVector) ByteVector.fromMemorySegment(B, codes, base + i, ByteOrder.LITTLE_ENDIAN)
                                .convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(out, i);
                    }
                    for (; i < ge; i++) {
                        out[i] = codes.get(ValueLayout.JAVA_BYTE, base + i) * s;
                    }
                }
            }
            case INT4, INT4S -> {
                boolean signed = format == WeightFormat.INT4S;
                for (int c = 0; c < chunked; c += 2 * L) {
                    int j = c / group;
                    float s = scales[r * g + j];
                    int z = signed ? 0 : zeros[r * g + j];
                    ByteVector b = ByteVector.fromMemorySegment(B, codes, base + c / 2, ByteOrder.LITTLE_ENDIAN);
                    ByteVector lo = b.and((byte) 0xF);
                    ByteVector hi = b.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF);
                    if (signed) { // two's-complement nibble: (q ^ 8) − 8
                        lo = lo.lanewise(VectorOperators.XOR, 8).sub((byte) 8);
                        hi = hi.lanewise(VectorOperators.XOR, 8).sub((byte) 8);
                    } else {
                        lo = lo.sub((byte) z);
                        hi = hi.sub((byte) z);
                    }
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(out, c);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(s).intoArray(out, c + L);
                }
                for (int i = chunked; i < k; i++) {
                    int q = (codes.get(ValueLayout.JAVA_BYTE, base + i / 2) >> (4 * (i & 1))) & 0xF;
                    int j = i / group;
                    int v = signed ? (q ^ 8) - 8 : q - zeros[r * g + j];
                    out[i] = v * scales[r * g + j];
                }
            }
            default -> throw new IllegalStateException(String.valueOf(format));
        }
    }
}
