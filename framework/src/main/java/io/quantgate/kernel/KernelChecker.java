package io.quantgate.kernel;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.reference.ReferenceKernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The correctness check of a linear kernel: on many seeded random shapes (odd N, K not a multiple of the group, M
 * from 1 to {@code maxBatch}, an all-zero group, extreme fp16 scales) every output of the kernel is compared with the
 * exact product of the same dequantized weights (the Java oracle, {@link ReferenceKernels#matmulExact}, in double),
 * and must lie within the bound of docs/kernels.md for its format and activation mode:
 * <ul>
 *   <li>fp32 activations: {@code (K+4)·u·A}, the worst-case fp32 accumulation bound, {@code u = 2⁻²⁴},
 *       {@code A = Σ|w̃·x|};</li>
 *   <li>int8 activations (activations quantized per 32-block, docs/formats.md): that plus {@code Σ|w̃|·sx_b/2} (the
 *       activation rounding) and, for nf4, {@code Σ s·(0.5/127)·|x|} (its 7-bit level table);</li>
 *   <li>bf16 activations (weights and activations rounded to bf16, fp32 sums): that plus {@code (2·2⁻⁸ + 2⁻¹⁶)·A}.</li>
 * </ul>
 * times {@code boundFactor} (1 = the documented bound; a kernel that accumulates in fp16 needs more, and says so).
 * The first violation is reported with its shape, element, expected and actual value and the bound.
 */
public final class KernelChecker {
    private static final double U = Math.ulp(1.0f) / 2; // 2^-24
    private static final int[] BATCHES = {1, 2, 3, 4, 5, 7, 16, 33, 64};

    private KernelChecker() {
    }

    /** One checked shape. */
    public record Case(ConfigId config, ActivationMode activations, int n, int k, int m, String special) {
        @Override
        public String toString() {
            return config + " " + n + "x" + k + " M=" + m + " (" + activations.name().toLowerCase(Locale.ROOT)
                    + " activations" + (special.isEmpty() ? "" : ", " + special) + ")";
        }
    }

    /**
     * What the check found.
     *
     * @param worstRatio   the largest |got − expected| / bound over every output (≤ 1 passes)
     * @param violations   outputs beyond their bound
     * @param firstFailure the first violation, in words ({@code null} when none)
     */
    public record Result(String kernel, int cases, long outputs, double worstRatio, long violations,
                         String firstFailure, String worstCase) {
        public boolean passed() {
            return violations == 0;
        }
    }

    /** Checks {@code kernel} on {@code cases} random shapes of {@code config} with {@code activations}. */
    public static Result check(LinearKernel kernel, ConfigId config, ActivationMode activations, int cases, long seed,
                               int maxBatch, double boundFactor) {
        if (cases < 1 || maxBatch < 1 || !(boundFactor > 0)) {
            throw new IllegalArgumentException("cases and maxBatch must be >= 1 and boundFactor > 0, got " + cases + ", "
                    + maxBatch + ", " + boundFactor);
        }
        ActivationMode act = config.format().isQuantized() ? activations : ActivationMode.FP32;
        SplittableRandom rnd = new SplittableRandom(seed ^ config.toString().hashCode());
        List<Case> plan = new ArrayList<>();
        int g = config.format().isQuantized() ? (config.group() == 0 ? 64 : config.group()) : 32;
        for (int i = 0; i < cases; i++) {
            int n = 1 + 2 * rnd.nextInt(0, 80);                    // odd N up to 159
            int k = g * rnd.nextInt(1, 4) + (i % 3 == 2 ? 0 : rnd.nextInt(1, g)); // mostly a short last group
            int m = Math.min(maxBatch, BATCHES[i % BATCHES.length]);
            String special = config.format().isQuantized() && i == 0 ? "an all-zero group"
                    : config.format().isQuantized() && i == 1 ? "extreme scales" : "";
            plan.add(new Case(config, act, n, k, m, special));
        }
        double worst = 0;
        String worstCase = null;
        long violations = 0;
        long outputs = 0;
        String first = null;
        for (int i = 0; i < plan.size(); i++) {
            Case c = plan.get(i);
            // shared: a kernel may read the weights and x from its own threads
            try (Arena arena = Arena.ofShared()) {
                QuantizedMatrix w = QuantizedMatrix.random(config, c.n(), c.k(), seed + 31L * i, arena);
                if (c.special().equals("an all-zero group")) {
                    zeroGroup(w, rnd);
                } else if (c.special().equals("extreme scales")) {
                    extremeScales(w, rnd);
                }
                float[] x = new float[c.m() * c.k()];
                for (int j = 0; j < x.length; j++) {
                    x[j] = (float) rnd.nextDouble(-1, 1);
                }
                float[] y = run(kernel, w, act, x, c.m(), arena);
                double[] expected = ReferenceKernels.matmulExact(w, x, c.m());
                double[] bound = bounds(w, act, x, c.m(), boundFactor);
                for (int mm = 0; mm < c.m(); mm++) {
                    for (int r = 0; r < c.n(); r++) {
                        int at = mm * c.n() + r;
                        outputs++;
                        double err = Math.abs(y[at] - expected[at]);
                        double ratio = Double.isNaN(y[at]) ? Double.POSITIVE_INFINITY : err / bound[at];
                        if (ratio > worst) {
                            worst = ratio;
                            worstCase = c + " element [" + mm + "][" + r + "]";
                        }
                        if (!(err <= bound[at])) {
                            violations++;
                            if (first == null) {
                                first = String.format(Locale.ROOT, "%s, element [%d][%d]: expected %.9g, got %.9g, "
                                        + "|error| %.3g > bound %.3g", c, mm, r, expected[at], y[at], err, bound[at]);
                            }
                        }
                    }
                }
            }
        }
        return new Result(kernel.name(), plan.size(), outputs, worst, violations, first, worstCase);
    }

    private static float[] run(LinearKernel kernel, QuantizedMatrix w, ActivationMode act, float[] x, int m,
                               Arena arena) {
        MemorySegment xs = arena.allocate(4L * x.length, 64);
        MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 0, x.length);
        MemorySegment ys = arena.allocate(4L * m * w.rows(), 64);
        try (Linear l = Linear.prepare(kernel, w, act)) {
            l.gemm(xs, m, ys);
        }
        return ys.toArray(ValueLayout.JAVA_FLOAT);
    }

    /** The documented bound of every output (see the class comment), times {@code factor}. */
    static double[] bounds(QuantizedMatrix w, ActivationMode act, float[] x, int m, double factor) {
        int n = w.rows(), k = w.cols();
        double[] abs = ReferenceKernels.matmulAbs(w, x, m);
        double[] out = new double[m * n];
        for (int mm = 0; mm < m; mm++) {
            double[] sx = new double[(k + 31) / 32];
            for (int b = 0; b < sx.length; b++) {
                float max = 0;
                for (int j = b * 32; j < Math.min(k, b * 32 + 32); j++) {
                    max = Math.max(max, Math.abs(x[mm * k + j]));
                }
                sx[b] = max / 127.0;
            }
            for (int r = 0; r < n; r++) {
                double bound = (k + 4) * U * abs[mm * n + r];
                if (act == ActivationMode.INT8) {
                    float[] wr = w.dequantizeRow(r);
                    for (int j = 0; j < k; j++) {
                        bound += Math.abs(wr[j]) * sx[j / 32] / 2;
                        if (w.format() == WeightFormat.NF4) {
                            bound += w.scale(r, j / w.groupSize()) * (0.5 / 127) * Math.abs(x[mm * k + j]);
                        }
                    }
                    // the fp32 combination of the int32 lane sums (docs/kernels.md, int8 path)
                    bound += (k / 8.0 + 8) * U * 4 * (2 * abs[mm * n + r] + 1e-3);
                } else if (act == ActivationMode.BF16) {
                    // each weight and activation rounded to bf16 (8 significant bits): |bf(w)·bf(x) − w·x| ≤
                    // (2·2⁻⁸ + 2⁻¹⁶)·|w·x| per term, on top of the fp32 accumulation
                    bound += (2 * 0x1p-8 + 0x1p-16) * abs[mm * n + r] * 1.01;
                }
                out[mm * n + r] = bound * factor * 1.01 + 1e-30;
            }
        }
        return out;
    }

    private static void zeroGroup(QuantizedMatrix w, SplittableRandom rnd) {
        // a whole group of one row dequantizes to zeros: scale 0 (docs/formats.md: codes 0, zero point 0)
        int r = rnd.nextInt(w.rows());
        int g = rnd.nextInt(w.groupsPerRow());
        w.scales().set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                2L * ((long) r * w.groupsPerRow() + g), (short) 0);
    }

    private static void extremeScales(QuantizedMatrix w, SplittableRandom rnd) {
        // the largest finite fp16 scale and a subnormal one, on two groups
        var le = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        int groups = w.groupsPerRow();
        int r = rnd.nextInt(w.rows());
        w.scales().set(le, 2L * ((long) r * groups + rnd.nextInt(groups)), (short) 0x7BFF); // 65504
        int r2 = rnd.nextInt(w.rows());
        w.scales().set(le, 2L * ((long) r2 * groups + rnd.nextInt(groups)), (short) 0x0001); // 2^-24
    }
}
