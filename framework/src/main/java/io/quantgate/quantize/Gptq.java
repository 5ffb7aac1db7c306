package io.quantgate.quantize;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.Fp16;
import io.quantgate.kernels.format.GroupCodec;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * GPTQ (Frantar et al., 2022) for every group format of SPEC §1: the columns of {@code W [n][k]} are quantized one at
 * a time and each column's rounding error is pushed onto the columns not yet quantized through the inverse Hessian
 * of the layer's inputs, so that {@code ‖(W − Q)·X‖} rather than {@code ‖W − Q‖} is small.
 *
 * <p>The steps, as in the reference implementation: {@code H = XᵀX/n}; a column no input ever reached (zero
 * diagonal) gets {@code H_ii = 1} and weight 0; damping adds {@code λ·mean(diag H)} to the diagonal; {@code U} is the
 * upper Cholesky factor of {@code H⁻¹}; then for each column j: {@code q = quant(w_j)}, {@code e = (w_j − q)/U_jj},
 * {@code w_{j+1..} −= e·U_{j, j+1..}}. A group's scale (and int4 zero) is fixed from the current, error-updated
 * weights when its first column is reached. With activation order the columns go by decreasing {@code H_ii} and the
 * group scales are fixed first from the original weights ("static groups"), so the stored layout (groups of
 * consecutive K) is unchanged.
 *
 * <p>Rows are independent given {@code U}, so blocks of rows run in parallel, each streaming {@code U} once. The
 * result is ordinary packed codes: every kernel, engine and export runs it unchanged.
 */
public final class Gptq {
    /** The reference implementation's default damping, as a fraction of the Hessian's mean diagonal. */
    public static final double DEFAULT_DAMPING = 0.01;
    private static final int ROW_BLOCK = 32;

    private Gptq() {
    }

    /**
     * @param w          {@code [n][k]} row-major weights (not modified)
     * @param hessian    {@code [k][k]} {@code XᵀX/n} of the layer's inputs (not modified)
     * @param actOrder   quantize columns by decreasing Hessian diagonal, with static groups
     * @param damping    fraction of the mean diagonal added to the diagonal (0.01 in the reference)
     * @param tensorName named in errors
     */
    public static QuantizedMatrix quantize(ConfigId id, int n, int k, float[] w, double[] hessian, boolean actOrder,
                                           double damping, Arena arena, String tensorName) {
        WeightFormat f = id.format();
        if (f.isDense()) {
            throw new IllegalArgumentException("tensor '" + tensorName + "': GPTQ needs a quantized format, not " + id);
        }
        if ((long) n * k != w.length || (long) k * k != hessian.length) {
            throw new IllegalArgumentException("tensor '" + tensorName + "': " + w.length + " weights and a Hessian of "
                    + hessian.length + " values for shape " + n + "x" + k);
        }
        for (double v : hessian) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("tensor '" + tensorName + "': the calibration Hessian holds " + v
                        + " (non-finite calibration activations?)");
            }
        }
        int g = id.effectiveGroup(k);
        int groups = (k + g - 1) / g;
        double[] h = hessian.clone();
        boolean[] dead = new boolean[k];
        for (int i = 0; i < k; i++) {
            if (!(h[i * k + i] > 0)) {
                dead[i] = true;
                h[i * k + i] = 1;
            }
        }
        // column order: identity, or by decreasing diagonal (ties by index, so it is deterministic)
        Integer[] boxed = new Integer[k];
        for (int i = 0; i < k; i++) {
            boxed[i] = i;
        }
        if (actOrder) {
            final double[] hh = h;
            Arrays.sort(boxed, (a, b) -> {
                int c = Double.compare(hh[b * k + b], hh[a * k + a]);
                return c != 0 ? c : Integer.compare(a, b);
            });
        }
        int[] perm = new int[k];
        for (int i = 0; i < k; i++) {
            perm[i] = boxed[i];
        }
        double[] hp = new double[k * k];
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                hp[a * k + b] = h[perm[a] * k + perm[b]];
            }
        }
        double[] u = inverseCholeskyUpper(hp, k, damping, tensorName);

        int[] codes = new int[n * k];
        short[] scaleBits = new short[n * groups];
        byte[] zeros = f == WeightFormat.INT4 ? new byte[n * groups] : null;
        int blocks = (n + ROW_BLOCK - 1) / ROW_BLOCK;
        Optional<String> error = IntStream.range(0, blocks).parallel()
                .mapToObj(b -> rowBlock(f, g, groups, k, Math.min(n, (b + 1) * ROW_BLOCK), b * ROW_BLOCK, w, u, perm,
                        dead, actOrder, codes, scaleBits, zeros, tensorName))
                .filter(java.util.Objects::nonNull).findFirst();
        if (error.isPresent()) {
            throw new IllegalArgumentException(error.get());
        }
        return QuantizedMatrix.pack(id, n, k, codes, scaleBits, zeros, arena);
    }

    /** Rows {@code r0 .. r1} through the whole column loop; returns an error message or null. */
    private static String rowBlock(WeightFormat f, int g, int groups, int k, int r1, int r0, float[] w, double[] u,
                                   int[] perm, boolean[] dead, boolean actOrder, int[] codes, short[] scaleBits,
                                   byte[] zeros, String name) {
        int rows = r1 - r0;
        double[][] wr = new double[rows][k];     // permuted, error-updated weights
        for (int i = 0; i < rows; i++) {
            int base = (r0 + i) * k;
            for (int j = 0; j < k; j++) {
                wr[i][j] = dead[perm[j]] ? 0 : w[base + perm[j]];
            }
        }
        float[][] scale = new float[rows][groups];
        int[][] zero = new int[rows][groups];
        if (actOrder) {
            // static groups: every scale from the original (dead-zeroed) weights, before any update
            for (int i = 0; i < rows; i++) {
                double[] orig = new double[k];
                for (int j = 0; j < k; j++) {
                    orig[perm[j]] = wr[i][j];
                }
                for (int gi = 0; gi < groups; gi++) {
                    String e = fixGroup(f, orig, gi * g, Math.min(k, gi * g + g), i, r0, gi, groups, scale,
                            zero, scaleBits, zeros, name);
                    if (e != null) {
                        return e;
                    }
                }
            }
        }
        for (int j = 0; j < k; j++) {
            int col = perm[j];
            int gi = col / g;
            if (!actOrder && col % g == 0) {
                for (int i = 0; i < rows; i++) {
                    String e = fixGroup(f, wr[i], col, Math.min(k, col + g), i, r0, gi, groups, scale, zero,
                            scaleBits, zeros, name);
                    if (e != null) {
                        return e;
                    }
                }
            }
            double d = u[j * k + j];
            for (int i = 0; i < rows; i++) {
                float s = scale[i][gi];
                int z = zero[i][gi];
                float v = (float) wr[i][j];
                int code = GroupCodec.encode(f, v, s, z);
                codes[(r0 + i) * k + col] = code;
                double err = (wr[i][j] - GroupCodec.decode(f, code, s, z)) / d;
                double[] row = wr[i];
                int uo = j * k;
                for (int c = j + 1; c < k; c++) {
                    row[c] -= err * u[uo + c];
                }
            }
        }
        return null;
    }

    /**
     * Fixes the scale (and zero) of group {@code gi} of one row from {@code vals[from..to)} (in K order) exactly as
     * round to nearest would from those values.
     */
    private static String fixGroup(WeightFormat f, double[] vals, int from, int to, int i, int r0, int gi,
                                   int groups, float[][] scale, int[][] zero, short[] scaleBits, byte[] zeros,
                                   String name) {
        float absmax = 0f;
        float min = 0f;
        float max = 0f;
        for (int c = from; c < to; c++) {
            float v = (float) vals[c];
            absmax = Math.max(absmax, Math.abs(v));
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float raw = GroupCodec.rawScale(f, absmax, min, max);
        if (!Fp16.fits(raw)) {
            return "tensor '" + name + "': scale " + raw + " of row " + (r0 + i) + ", group " + gi
                    + " overflows fp16 (|v| > 65504)";
        }
        short bits = Fp16.toBits(raw);
        float s = Fp16.toFloat(bits);
        scale[i][gi] = s;
        scaleBits[(r0 + i) * groups + gi] = bits;
        if (f == WeightFormat.INT4) {
            int z = GroupCodec.zeroPoint(s, min);
            zero[i][gi] = z;
            zeros[(r0 + i) * groups + gi] = (byte) z;
        }
        return null;
    }

    /**
     * The upper Cholesky factor {@code U} of {@code (H + λ·mean(diag H)·I)⁻¹} ({@code H⁻¹ = UᵀU}), from one Cholesky
     * factorization of H with rows and columns reversed: if {@code P·H·P = M·Mᵀ} then {@code U = P·M⁻¹·P}. Damping is
     * raised tenfold (up to three times) when the matrix is not positive definite.
     */
    static double[] inverseCholeskyUpper(double[] hIn, int k, double damping, String name) {
        double mean = 0;
        for (int i = 0; i < k; i++) {
            mean += hIn[i * k + i];
        }
        mean /= k;
        double lambda = damping;
        for (int attempt = 0; attempt < 4; attempt++, lambda *= 10) {
            double[] m = new double[k * k];     // reversed, damped H, factorized in place (lower)
            for (int a = 0; a < k; a++) {
                for (int b = 0; b < k; b++) {
                    m[a * k + b] = hIn[(k - 1 - a) * k + (k - 1 - b)];
                }
                m[a * k + a] += lambda * mean;
            }
            if (!cholesky(m, k)) {
                continue;
            }
            double[] inv = invertLower(m, k);
            double[] u = new double[k * k];
            for (int a = 0; a < k; a++) {
                for (int b = 0; b <= a; b++) {
                    u[(k - 1 - a) * k + (k - 1 - b)] = inv[a * k + b];
                }
            }
            return u;
        }
        throw new IllegalArgumentException("tensor '" + name + "': the calibration Hessian is not positive definite "
                + "even with damping " + lambda / 10 + " (are the calibration activations all zero or non-finite?)");
    }

    /** {@code Σ_{p<n} a[x+p]·a[y+p]} with four independent sums (the JIT does not reorder one floating-point sum). */
    private static double dot(double[] a, int x, int y, int n) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int p = 0;
        for (; p + 3 < n; p += 4) {
            s0 += a[x + p] * a[y + p];
            s1 += a[x + p + 1] * a[y + p + 1];
            s2 += a[x + p + 2] * a[y + p + 2];
            s3 += a[x + p + 3] * a[y + p + 3];
        }
        for (; p < n; p++) {
            s0 += a[x + p] * a[y + p];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** In-place lower Cholesky {@code A = L·Lᵀ} (upper part left as is); false when A is not positive definite. */
    static boolean cholesky(double[] a, int k) {
        for (int j = 0; j < k; j++) {
            int jr = j * k;
            double d = a[jr + j] - dot(a, jr, jr, j);
            if (!(d > 0) || !Double.isFinite(d)) {
                return false;
            }
            double ljj = Math.sqrt(d);
            a[jr + j] = ljj;
            final int jj = j;
            IntStream.range(j + 1, k).parallel().forEach(i -> {
                int ir = i * k;
                a[ir + jj] = (a[ir + jj] - dot(a, ir, jr, jj)) / ljj;
            });
        }
        return true;
    }

    /**
     * The inverse of the lower-triangular factor in {@code l} (only its lower part is read), row by row:
     * {@code X_i = (e_i − Σ_{p<i} L_ip·X_p) / L_ii}, each step an axpy over contiguous rows of X (cache-friendly),
     * split over column blocks in parallel.
     */
    static double[] invertLower(double[] l, int k) {
        double[] inv = new double[k * k];
        int block = 256;
        for (int i = 0; i < k; i++) {
            final int row = i;
            int ir = i * k;
            double d = l[ir + i];
            int blocks = (i + block) / block; // columns 0..i
            IntStream.range(0, blocks).parallel().forEach(b -> {
                int c0 = b * block;
                int c1 = Math.min(row + 1, c0 + block);
                double[] acc = new double[c1 - c0];
                for (int p = c0; p < row; p++) {    // X_p is zero beyond column p, so p starts at c0
                    double lip = l[ir + p];
                    if (lip == 0) {
                        continue;
                    }
                    int pr = p * k;
                    int end = Math.min(c1, p + 1);
                    for (int c = c0; c < end; c++) {
                        acc[c - c0] += lip * inv[pr + c];
                    }
                }
                for (int c = c0; c < c1; c++) {
                    inv[ir + c] = ((c == row ? 1 : 0) - acc[c - c0]) / d;
                }
            });
        }
        return inv;
    }
}
