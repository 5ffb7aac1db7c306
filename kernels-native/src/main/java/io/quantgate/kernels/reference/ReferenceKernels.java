package io.quantgate.kernels.reference;

import io.quantgate.kernels.format.Fp4E2M1;
import io.quantgate.kernels.format.Nf4;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import java.util.Objects;

/**
 * The correctness oracle for the native kernels: deliberately simple scalar loops over the documented
 * definitions, trading speed for being obviously right. Outputs are row-major {@code y[m][n]}.
 *
 * <p>Several variants exist because a kernel is judged against the oracle of its own arithmetic:
 * {@link #matmulExact} (double) bounds fp32 kernels, {@link #matmulQ8} reproduces the int8-activation
 * path, {@link #matmulAbs} supplies the magnitude for relative error bounds, and {@link #matmulFp64}
 * measures what quantization itself costs against the original weights.
 */
public final class ReferenceKernels {
    private ReferenceKernels() {
    }

    /** {@code y = W_dequant · x} accumulated in double; the dequantized weights are the fp32 values of dequantizeRow. */
    public static double[] matmulExact(QuantizedMatrix w, float[] x, int m) {
        return matmulDouble(w, x, m, false);
    }

    /**
     * The bf16-activation product: every dequantized weight and every activation rounded to the nearest bf16 (ties to
     * even), the products summed exactly (double). A bf16 kernel's error against it is its fp32 accumulation alone.
     */
    public static double[] matmulBf16(QuantizedMatrix w, float[] x, int m) {
        int n = w.rows();
        int k = w.cols();
        checkX(x, m, k);
        float[] xr = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            xr[i] = roundToBf16(x[i]);
        }
        double[] y = new double[m * n];
        for (int r = 0; r < n; r++) {
            float[] wr = w.dequantizeRow(r);
            for (int c = 0; c < k; c++) {
                wr[c] = roundToBf16(wr[c]);
            }
            for (int i = 0; i < m; i++) {
                double acc = 0;
                for (int c = 0; c < k; c++) {
                    acc += (double) wr[c] * xr[i * k + c];
                }
                y[i * n + r] = acc;
            }
        }
        return y;
    }

    /** The nearest bf16 of {@code f} (ties to even), as a float; NaN stays NaN. */
    public static float roundToBf16(float f) {
        if (Float.isNaN(f)) {
            return f;
        }
        int b = Float.floatToRawIntBits(f);
        b += 0x7fff + ((b >>> 16) & 1);
        return Float.intBitsToFloat(b & 0xffff0000);
    }

    /** {@code Σ|w|·|x|} in double: the scale against which rounding errors of a dot product are bounded. */
    public static double[] matmulAbs(QuantizedMatrix w, float[] x, int m) {
        return matmulDouble(w, x, m, true);
    }

    private static double[] matmulDouble(QuantizedMatrix w, float[] x, int m, boolean abs) {
        int n = w.rows();
        int k = w.cols();
        checkX(x, m, k);
        double[] y = new double[m * n];
        for (int r = 0; r < n; r++) {
            float[] wr = w.dequantizeRow(r);
            for (int i = 0; i < m; i++) {
                double acc = 0;
                int xb = i * k;
                for (int c = 0; c < k; c++) {
                    double t = (double) wr[c] * x[xb + c];
                    acc += abs ? Math.abs(t) : t;
                }
                y[i * n + r] = acc;
            }
        }
        return y;
    }

    /** The same product with plain sequential fp32 accumulation, the simplest possible kernel. */
    public static float[] matmulF32(QuantizedMatrix w, float[] x, int m) {
        int n = w.rows();
        int k = w.cols();
        checkX(x, m, k);
        float[] y = new float[m * n];
        for (int r = 0; r < n; r++) {
            float[] wr = w.dequantizeRow(r);
            for (int i = 0; i < m; i++) {
                float acc = 0f;
                int xb = i * k;
                for (int c = 0; c < k; c++) {
                    acc += wr[c] * x[xb + c];
                }
                y[i * n + r] = acc;
            }
        }
        return y;
    }

    /**
     * The int8-activation path of docs/formats.md: activations quantized per 32-block, weights as small
     * integers {@code u - off}, the dot of each block exact in integers, then
     * {@code Σ_groups sEff · Σ_blocks sx · dot} in double. Every format except nf4 is exact here
     * (nf4 uses the rounded {@link Nf4#INT8_TABLE}), so the only difference from {@link #matmulExact} is
     * the activation rounding.
     */
    public static double[] matmulQ8(QuantizedMatrix w, float[] x, int m) {
        WeightFormat f = w.format();
        if (f.isDense()) {
            throw new IllegalArgumentException("int8 activations need a quantized weight format");
        }
        int n = w.rows();
        int k = w.cols();
        checkX(x, m, k);
        QuantizedActivations qa = ActivationQuantizer.quantize(x, m, k);
        int block = ActivationQuantizer.BLOCK;
        int blocks = qa.blocksPerRow();
        int g = w.groupSize();
        int groups = w.groupsPerRow();
        byte[] qx = qa.q();
        float[] sx = qa.scales();
        double[] y = new double[m * n];
        int[] u = new int[k];
        int[] off = new int[groups];
        double[] sEff = new double[groups];
        for (int r = 0; r < n; r++) {
            for (int gi = 0; gi < groups; gi++) {
                double s = w.scale(r, gi);
                sEff[gi] = switch (f) {
                    case INT8, INT4, INT4S -> s;
                    case FP4 -> s / 2.0;
                    case NF4 -> s / 127.0;
                    default -> throw new AssertionError(f);
                };
                off[gi] = switch (f) {
                    case INT8 -> 128;
                    case INT4 -> w.zero(r, gi);
                    case INT4S -> 8;
                    case FP4 -> 12;
                    case NF4 -> 127;
                    default -> throw new AssertionError(f);
                };
            }
            for (int c = 0; c < k; c++) {
                int code = w.code(r, c);
                u[c] = switch (f) {
                    case INT8 -> code + 128;
                    case INT4 -> code;
                    case INT4S -> ((code << 28) >> 28) + 8;
                    case FP4 -> (int) (2 * Fp4E2M1.decode(code)) + 12;
                    case NF4 -> Nf4.INT8_TABLE[code] + 127;
                    default -> throw new AssertionError(f);
                };
            }
            for (int i = 0; i < m; i++) {
                double acc = 0;
                for (int gi = 0; gi < groups; gi++) {
                    int gFrom = gi * g;
                    int gTo = Math.min(k, gFrom + g);
                    double inner = 0;
                    // groups are 32·2^j or K, so 32-blocks never straddle a group boundary
                    for (int b = gFrom / block; b * block < gTo; b++) {
                        int from = b * block;
                        int to = Math.min(gTo, from + block);
                        long dot = 0;
                        for (int c = from; c < to; c++) {
                            dot += (long) (u[c] - off[gi]) * qx[i * k + c];
                        }
                        inner += (double) sx[i * blocks + b] * dot;
                    }
                    acc += sEff[gi] * inner;
                }
                y[i * n + r] = acc;
            }
        }
        return y;
    }

    /** fp64 product with the original, unquantized weights: the "truth" quantization error is measured against. */
    public static double[] matmulFp64(float[] wTrue, int n, int k, float[] x, int m) {
        Objects.requireNonNull(wTrue, "wTrue");
        if ((long) n * k != wTrue.length) {
            throw new IllegalArgumentException(wTrue.length + " weights given for shape " + n + "x" + k);
        }
        checkX(x, m, k);
        double[] y = new double[m * n];
        for (int r = 0; r < n; r++) {
            int wb = r * k;
            for (int i = 0; i < m; i++) {
                double acc = 0;
                int xb = i * k;
                for (int c = 0; c < k; c++) {
                    acc += (double) wTrue[wb + c] * x[xb + c];
                }
                y[i * n + r] = acc;
            }
        }
        return y;
    }

    private static void checkX(float[] x, int m, int k) {
        Objects.requireNonNull(x, "x");
        if (m <= 0) {
            throw new IllegalArgumentException("activation rows must be positive, got " + m);
        }
        if ((long) m * k != x.length) {
            throw new IllegalArgumentException(x.length + " activations given for " + m + " rows of K=" + k
                    + " (expected " + ((long) m * k) + ")");
        }
    }
}
