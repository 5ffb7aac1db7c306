package io.quantgate.kernels.nativeimpl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.GroupQuantizer;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every native kernel (all ISA tiers this CPU supports, all formats, both activation modes) against
 * the Java reference oracle on randomized shapes: odd N, K not a multiple of the group or of 8,
 * batch 1..64, every group size. The bounds are the standard worst-case rounding bounds of an fp32
 * dot product, so a pass is not luck and a wrong formula (an error of the order of the values
 * themselves) cannot pass.
 */
class NativeKernelsTest {
    private static final double U = Math.ulp(1.0f) / 2; // fp32 unit roundoff 2^-24
    private static Isa original;

    private final Arena arena = Arena.ofConfined();

    @BeforeAll
    static void remember() {
        original = NativeKernels.isa();
    }

    @AfterAll
    static void restore() {
        NativeKernels.setIsa(original);
        NativeKernels.setThreads(0);
    }

    @AfterEach
    void close() {
        arena.close();
    }

    static Stream<Arguments> tiersAndFormats() {
        List<Arguments> out = new ArrayList<>();
        String[] ids = {"fp32", "fp16", "bf16", "int8", "int8-g32", "int8-g128", "int4-g32", "int4-g64", "int4-g128", "int4-g256",
            "int4s-g32", "int4s-g128", "fp4-g32", "fp4-g64", "fp4-g128", "fp4-g256", "nf4-g64", "nf4-g128"};
        for (Isa isa : Isa.values()) {
            for (String id : ids) {
                out.add(Arguments.of(isa, id));
            }
        }
        return out.stream();
    }

    private static float[] gaussian(int count, SplittableRandom rnd, double sigma) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            // Box-Muller: SplittableRandom has no nextGaussian before JDK 17's RandomGenerator default
            v[i] = (float) (sigma * Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble()));
        }
        return v;
    }

    /**
     * Σ|w̃·x| of each output, plus for int4 2·Σ|z·s·x|: the kernels apply an int4 zero point once per group (z·s·Σx),
     * and the rounding of that term and of the sum of s·q·x it cancels is bounded by their magnitudes, which can exceed
     * Σ|w̃·x| (a short K with a large zero point).
     */
    private static double[] magnitudes(QuantizedMatrix q, float[] x, int m) {
        double[] abs = ReferenceKernels.matmulAbs(q, x, m);
        if (q.format() == WeightFormat.INT4) {
            int n = q.rows();
            int k = q.cols();
            for (int i = 0; i < m; i++) {
                for (int r = 0; r < n; r++) {
                    double zs = 0;
                    for (int c = 0; c < k; c++) {
                        int g = c / q.groupSize();
                        zs += Math.abs((double) q.zero(r, g) * q.scale(r, g) * x[i * k + c]);
                    }
                    abs[i * n + r] += 2 * zs;
                }
            }
        }
        return abs;
    }

    /**
     * Int8 activations against {@link ReferenceKernels#matmulQ8}: the integer part is exact; the fp32 combine of
     * ceil(K/8) lane terms adds at most gamma_{K/8+8} of their magnitude, itself below 2 sum|w x| + the int8 rounding
     * slack.
     */
    private static double int8Bound(int k, double magnitude) {
        return (k / 8.0 + 8) * U * (2 * magnitude + 1e-3) * 4;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("tiersAndFormats")
    void matchesOracleOnRandomShapes(Isa isa, String id) {
        org.junit.jupiter.api.Assumptions.assumeTrue(NativeKernels.isSupported(isa), isa.id() + " not supported by this CPU");
        NativeKernels.setIsa(isa);
        ConfigId config = ConfigId.parse(id);
        SplittableRandom rnd = new SplittableRandom(id.hashCode() * 31L + isa.ordinal());
        int[] batches = {1, 2, 3, 4, 5, 7, 16, 33, 64};
        for (int t = 0; t < batches.length; t++) {
            int n = 1 + 2 * rnd.nextInt(40);                  // odd N
            int k = 1 + rnd.nextInt(600);                      // K rarely a multiple of the group or of 8
            if (t == 0) {
                k = 384 + 17;
            }
            int m = batches[t];
            float[] w = gaussian(n * k, rnd, 0.05);
            float[] x = gaussian(m * k, rnd, 1.0);
            QuantizedMatrix q = GroupQuantizer.quantize(config, n, k, w, arena);
            float[] yF32 = NativeKernels.gemm(q, ActivationMode.FP32, x, m);
            double[] exact = ReferenceKernels.matmulExact(q, x, m);
            double[] abs = magnitudes(q, x, m);
            for (int i = 0; i < yF32.length; i++) {
                // |fl(sum) - sum| <= gamma_{K+2} * sum|w x|  (two extra roundings: scale, block combine)
                double bound = (k + 4) * U * abs[i] * 1.01 + 1e-30;
                assertThat(Math.abs(yF32[i] - exact[i])).as("%s %s fp32 act n=%d k=%d m=%d at %d", isa, id, n, k, m, i)
                        .isLessThanOrEqualTo(bound);
            }
            // bf16 activations: against the exact sum of the bf16-rounded weights and activations, the fp32
            // accumulation bound (the bf16 magnitudes are within 2^-8 of the fp32 ones, hence 1.02)
            float[] yBf = NativeKernels.gemm(q, ActivationMode.BF16, x, m);
            double[] refBf = ReferenceKernels.matmulBf16(q, x, m);
            for (int i = 0; i < yBf.length; i++) {
                double bound = (k + 4) * U * abs[i] * 1.02 + 1e-30;
                assertThat(Math.abs(yBf[i] - refBf[i])).as("%s %s bf16 act n=%d k=%d m=%d at %d", isa, id, n, k, m, i)
                        .isLessThanOrEqualTo(bound);
            }
            if (config.format().isQuantized()) {
                float[] yQ8 = NativeKernels.gemm(q, ActivationMode.INT8, x, m);
                double[] ref = ReferenceKernels.matmulQ8(q, x, m);
                for (int i = 0; i < yQ8.length; i++) {
                    double bound = int8Bound(k, abs[i]);
                    assertThat(Math.abs(yQ8[i] - ref[i])).as("%s %s int8 act n=%d k=%d m=%d at %d", isa, id, n, k, m, i)
                            .isLessThanOrEqualTo(bound);
                }
            }
        }
    }

    /**
     * Rows of mostly zero weights at long K, int8 activations, M = 1 (the decode GEMV; past K 4096 int8 / 6144 4-bit the
     * AVX-512 GEMV reads a compact activation side): within {@link #int8Bound} of the oracle. The rows are packed
     * directly — zero codes under nonzero scales, as a file may hold them (a quantizer's all-zero group gets scale 0,
     * which hides the case) — so a zero weight is coded at the format's offset (u = off) and lanes that do not start at
     * their own exact offset carry sums of the size off × Σ|q|, whose rounding the bound does not cover
     * (docs/kernels.md, "Long-K GEMV: exact lane offsets again": −1.1e-4 for a zero int8 row at K 14336, bound 4.3e-7).
     */
    @Test
    void mostlyZeroRowsAtLongKStayWithinTheInt8Bound() {
        SplittableRandom rnd = new SplittableRandom(77);
        int n = 5;
        for (String id : new String[] {"int8-g32", "int8-g128", "int4s-g32", "fp4-g64", "fp4-g128", "nf4-g64", "nf4-g128"}) {
            ConfigId config = ConfigId.parse(id);
            boolean int8 = config.format() == WeightFormat.INT8;
            int zeroCode = config.format() == WeightFormat.NF4 ? 7 : 0; // the code of the level 0
            for (int k : new int[] {4500, 8200, 14336}) {
                int groups = (k + config.effectiveGroup(k) - 1) / config.effectiveGroup(k);
                int[] codes = new int[n * k];
                short[] scales = new short[n * groups];
                for (int r = 0; r < n; r++) {
                    int keepOneIn = new int[] {0, 10, 50, 500, 1}[r]; // row 0 all zero, row 4 dense
                    for (int c = 0; c < k; c++) {
                        boolean keep = keepOneIn > 0 && rnd.nextInt(keepOneIn) == 0;
                        codes[r * k + c] = !keep ? zeroCode : int8 ? rnd.nextInt(255) - 127 : rnd.nextInt(16);
                    }
                    for (int g = 0; g < groups; g++) {
                        scales[r * groups + g] = (short) (0x2000 + rnd.nextInt(0x400)); // fp16 in [2^-7, 2^-6)
                    }
                }
                QuantizedMatrix q = QuantizedMatrix.pack(config, n, k, codes, scales, null, arena);
                float[] x = gaussian(k, rnd, 1.0);
                double[] ref = ReferenceKernels.matmulQ8(q, x, 1);
                double[] abs = magnitudes(q, x, 1);
                assertThat(ref[0]).as("%s k=%d: a zero row's exact product", id, k).isEqualTo(0.0);
                for (Isa isa : Isa.values()) {
                    if (!NativeKernels.isSupported(isa)) {
                        continue;
                    }
                    NativeKernels.setIsa(isa);
                    float[] y = NativeKernels.gemm(q, ActivationMode.INT8, x, 1);
                    for (int r = 0; r < n; r++) {
                        assertThat(Math.abs(y[r] - ref[r])).as("%s %s k=%d row %d", isa, id, k, r)
                                .isLessThanOrEqualTo(int8Bound(k, abs[r]));
                    }
                }
            }
        }
    }

    /** bf16 mode rounds: its outputs sit on the bf16 oracle and off the fp32 one, on every tier and both paths (M ≤ 4, M > 4). */
    @Test
    void bf16ActivationsAreRoundedOnEveryTier() {
        SplittableRandom rnd = new SplittableRandom(77);
        int n = 31;
        int k = 1000;
        float[] w = gaussian(n * k, rnd, 0.05);
        QuantizedMatrix q = GroupQuantizer.quantize(ConfigId.parse("fp16"), n, k, w, arena);
        int tiers = 0;
        for (Isa isa : Isa.values()) {
            if (!NativeKernels.isSupported(isa)) {
                continue;
            }
            NativeKernels.setIsa(isa);
            tiers++;
            for (int m : new int[] {1, 4, 5, 40}) {
                float[] x = gaussian(m * k, rnd, 1.0);
                float[] y = NativeKernels.gemm(q, ActivationMode.BF16, x, m);
                double[] bf = ReferenceKernels.matmulBf16(q, x, m);
                double[] exact = ReferenceKernels.matmulExact(q, x, m);
                double[] abs = ReferenceKernels.matmulAbs(q, x, m);
                int offFp32 = 0;
                for (int i = 0; i < y.length; i++) {
                    double fp32Bound = (k + 4) * U * abs[i] * 1.01;
                    assertThat(Math.abs(y[i] - bf[i])).as("%s m=%d at %d", isa, m, i).isLessThanOrEqualTo(fp32Bound * 1.02);
                    if (Math.abs(y[i] - exact[i]) > fp32Bound) {
                        offFp32++;
                    }
                }
                // rounding 1000 activations and weights to 8 significant bits moves most outputs beyond fp32's bound
                assertThat(offFp32).as("%s m=%d: outputs farther from the fp32 product than fp32 rounding allows", isa, m)
                        .isGreaterThan(y.length / 2);
            }
        }
        restore();
        assertThat(tiers).isGreaterThanOrEqualTo(1);
    }

    @Test
    void errorAgainstFp64MathOnTheOriginalWeightsIsWithinTheQuantizationBound() {
        SplittableRandom rnd = new SplittableRandom(5);
        int n = 33;
        int k = 301;
        int m = 3;
        float[] w = gaussian(n * k, rnd, 0.05);
        float[] x = gaussian(m * k, rnd, 1.0);
        double[] truth = ReferenceKernels.matmulFp64(w, n, k, x, m);
        for (String id : List.of("fp16", "bf16", "int8", "int4-g32", "int4s-g32", "fp4-g32", "nf4-g32", "int4-g128", "fp4-g128")) {
            QuantizedMatrix q = GroupQuantizer.quantize(ConfigId.parse(id), n, k, w, arena);
            float[] deq = q.dequantize();
            float[] y = NativeKernels.gemm(q, ActivationMode.FP32, x, m);
            double[] abs = ReferenceKernels.matmulAbs(q, x, m);
            for (int mm = 0; mm < m; mm++) {
                for (int r = 0; r < n; r++) {
                    // bound = sum_k |w~ - w| |x|  (the weight quantization error) + fp32 accumulation
                    double qerr = 0;
                    for (int kk = 0; kk < k; kk++) {
                        qerr += Math.abs(deq[r * k + kk] - w[r * k + kk]) * Math.abs(x[mm * k + kk]);
                    }
                    double bound = qerr + (k + 4) * U * abs[mm * n + r] * 1.01;
                    assertThat(Math.abs(y[mm * n + r] - truth[mm * n + r])).as("%s row %d", id, r).isLessThanOrEqualTo(bound);
                }
            }
        }
    }

    @Test
    void threadCountDoesNotChangeResults() {
        SplittableRandom rnd = new SplittableRandom(9);
        int n = 301;
        int k = 777;
        int m = 6;
        QuantizedMatrix q = GroupQuantizer.quantize(ConfigId.parse("fp4-g64"), n, k, gaussian(n * k, rnd, 0.1), arena);
        float[] x = gaussian(m * k, rnd, 1);
        NativeKernels.setThreads(1);
        float[] one = NativeKernels.gemm(q, ActivationMode.INT8, x, m);
        float[] oneF = NativeKernels.gemm(q, ActivationMode.FP32, x, m);
        NativeKernels.setThreads(2);
        assertThat(NativeKernels.threads()).isEqualTo(2);
        assertThat(NativeKernels.gemm(q, ActivationMode.INT8, x, m)).containsExactly(one);
        assertThat(NativeKernels.gemm(q, ActivationMode.FP32, x, m)).containsExactly(oneF);
        NativeKernels.setThreads(0);
    }

    /**
     * Threads that each hold a lane run their calls side by side, alone, and get the pool's bits (GEMV and GEMM, both
     * activation modes), while this thread's calls still go through the pool; lanes nest (a thread stays a lane until
     * its last handle closes); a lane is closed only by its own thread and refused on a virtual thread; after closing,
     * the thread's calls use the pool again.
     */
    @Test
    void lanesGiveThePoolsBitsSideBySide() throws Exception {
        SplittableRandom rnd = new SplittableRandom(21);
        int n = 203;
        int k = 333;
        Arena shared = Arena.ofShared(); // the lanes' threads read the weights
        QuantizedMatrix q = GroupQuantizer.quantize(ConfigId.parse("int4s-g32"), n, k, gaussian(n * k, rnd, 0.1), shared);
        int[] ms = {1, 3, 40};
        float[][] xs = new float[ms.length][];
        float[][][] want = new float[ms.length][2][];
        NativeKernels.setThreads(2);
        for (int i = 0; i < ms.length; i++) {
            xs[i] = gaussian(ms[i] * k, rnd, 1);
            want[i][0] = NativeKernels.gemm(q, ActivationMode.INT8, xs[i], ms[i]);
            want[i][1] = NativeKernels.gemm(q, ActivationMode.FP32, xs[i], ms[i]);
        }
        java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
        java.util.List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        NativeKernels.Lane[] opened = new NativeKernels.Lane[2];
        Thread[] threads = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int id = t;
            threads[t] = Thread.ofPlatform().start(() -> {
                try (NativeKernels.Lane lane = NativeKernels.openLane()) {
                    opened[id] = lane;
                    NativeKernels.openLane().close(); // a nested handle: the thread stays a lane
                    assertThat(NativeKernels.threads()).as("the pool's size, asked from a lane").isEqualTo(2);
                    for (int rep = 0; rep < 20; rep++) {
                        for (int i = 0; i < ms.length; i++) {
                            if (!Arrays.equals(NativeKernels.gemm(q, ActivationMode.INT8, xs[i], ms[i]), want[i][0])
                                    || !Arrays.equals(NativeKernels.gemm(q, ActivationMode.FP32, xs[i], ms[i]), want[i][1])) {
                                wrong.incrementAndGet();
                            }
                        }
                    }
                    lane.close();
                    assertThat(NativeKernels.threads()).as("the pool again after the lane").isEqualTo(2);
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
        }
        for (int rep = 0; rep < 20; rep++) { // the pool's calls meanwhile
            for (int i = 0; i < ms.length; i++) {
                assertThat(NativeKernels.gemm(q, ActivationMode.INT8, xs[i], ms[i])).containsExactly(want[i][0]);
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(errors).isEmpty();
        assertThat(wrong.get()).as("lane results that differ from the pool's").isZero();
        assertThat(opened).doesNotContainNull();
        opened[0].close(); // closed already, on its thread: nothing to do

        NativeKernels.Lane mine = NativeKernels.openLane();
        Thread other = Thread.ofPlatform().start(() -> assertThatThrownBy(mine::close)
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed by the thread that opened it"));
        other.join();
        mine.close();
        assertThat(NativeKernels.threads()).isEqualTo(2);
        Throwable[] onVirtual = new Throwable[1];
        Thread.ofVirtual().start(() -> {
            try {
                NativeKernels.openLane().close();
            } catch (Throwable e) {
                onVirtual[0] = e;
            }
        }).join();
        assertThat(onVirtual[0]).isInstanceOf(IllegalStateException.class).hasMessageContaining("needs a platform thread");
        NativeKernels.setThreads(0);
        shared.close();
    }

    /**
     * max (NaNs skipped, as the Java loop it replaces) and sumExp on every tier: each term within 2 ulp of Math.exp's (itself within 1 ulp of exact: 3 ulp together), the sum
     * within n ulp of the sum of Math.exp's terms; rows in native memory and in Java arrays give the same bits; the sum
     * without terms is the same; a NaN gives NaN; bad calls are exceptions.
     */
    @Test
    void sumExpMatchesMathExpOnEveryTier() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (Isa isa : Isa.values()) {
            if (!NativeKernels.isSupported(isa)) {
                continue;
            }
            NativeKernels.setIsa(isa);
            for (int trial = 0; trial < 30; trial++) {
                int n = 1 + rnd.nextInt(trial % 3 == 0 ? 20 : 5000);
                float[] x = new float[n];
                float max = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) {
                    int kind = rnd.nextInt(40);
                    x[i] = kind == 0 ? Float.NEGATIVE_INFINITY : kind == 1 ? (float) (-720 - 40 * rnd.nextDouble())
                            : (float) (rnd.nextDouble() * 40 - 20);
                    max = Math.max(max, x[i]);
                }
                assertThat(NativeKernels.max(MemorySegment.ofArray(x), 0, n)).isEqualTo(max);
                double[] terms = new double[n];
                double sum = NativeKernels.sumExp(MemorySegment.ofArray(x), 0, n, max, terms);
                double want = 0;
                for (int i = 0; i < n; i++) {
                    double e = Math.exp((double) x[i] - max);
                    want += e;
                    assertThat(Math.abs(terms[i] - e)).as("%s: exp(%s - %s)", isa, x[i], max)
                            .isLessThanOrEqualTo(3 * Math.ulp(e));
                }
                assertThat(Math.abs(sum - want)).as("%s, n %d", isa, n).isLessThanOrEqualTo(n * Math.ulp(want));
                MemorySegment off = arena.allocate(4L * (n + 3), 4);
                MemorySegment.copy(x, 0, off, ValueLayout.JAVA_FLOAT, 12, n);
                assertThat(NativeKernels.sumExp(off, 3, n, max, null)).isEqualTo(sum);
                x[rnd.nextInt(n)] = Float.NaN;
                assertThat(NativeKernels.sumExp(MemorySegment.ofArray(x), 0, n, max, terms)).isNaN();
                assertThat(NativeKernels.max(MemorySegment.ofArray(x), 0, n)).as("NaNs skipped")
                        .isEqualTo(maxSkippingNaN(x));
            }
        }
        NativeKernels.setIsa(original);
        MemorySegment four = MemorySegment.ofArray(new float[4]);
        assertThatThrownBy(() -> NativeKernels.sumExp(four, 2, 3, 0, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 floats from float 2 of a segment of 16 bytes");
        assertThatThrownBy(() -> NativeKernels.sumExp(four, 0, 4, Double.NaN, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shift must be finite");
        assertThatThrownBy(() -> NativeKernels.sumExp(four, 0, 4, 0, new double[3]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 doubles for 4 terms");
        assertThat(NativeKernels.sumExp(four, 0, 4, 0, null)).isEqualTo(4.0);
        assertThat(NativeKernels.max(MemorySegment.ofArray(new float[] {Float.NaN, Float.NaN}), 0, 2))
                .isEqualTo(Float.NEGATIVE_INFINITY);
        assertThatThrownBy(() -> NativeKernels.max(four, 1, 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4 floats from float 1 of a segment of 16 bytes");
    }

    private static float maxSkippingNaN(float[] x) {
        float m = Float.NEGATIVE_INFINITY;
        for (float v : x) {
            if (v > m) {
                m = v;
            }
        }
        return m;
    }

    @Test
    void allZeroGroupsGiveZerosNotNaN() {
        int n = 5;
        int k = 96;
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i / 32) % 2 == 0 ? 0f : 0.01f * (i % 7 - 3);   // every other group all zero
        }
        float[] x = new float[k];
        java.util.Arrays.fill(x, 1f);
        for (String id : List.of("int8-g32", "int4-g32", "int4s-g32", "fp4-g32", "nf4-g32")) {
            QuantizedMatrix q = GroupQuantizer.quantize(ConfigId.parse(id), n, k, w, arena);
            for (ActivationMode a : ActivationMode.values()) {
                float[] y = NativeKernels.gemm(q, a, x, 1);
                double[] ref = switch (a) {
                    case FP32 -> ReferenceKernels.matmulExact(q, x, 1);
                    case INT8 -> ReferenceKernels.matmulQ8(q, x, 1);
                    case BF16 -> ReferenceKernels.matmulBf16(q, x, 1);
                };
                for (int i = 0; i < n; i++) {
                    assertThat(y[i]).as(id + " " + a).isNotNaN();
                    assertThat((double) y[i]).as(id + " " + a).isCloseTo(ref[i], org.assertj.core.data.Offset.offset(1e-5));
                }
            }
        }
        float[] zeros = new float[n * k];
        QuantizedMatrix q = GroupQuantizer.quantize(ConfigId.parse("int4-g32"), n, k, zeros, arena);
        assertThat(NativeKernels.gemm(q, ActivationMode.INT8, x, 1)).containsOnly(0f);
        assertThat(NativeKernels.gemm(q, ActivationMode.FP32, x, 1)).containsOnly(0f);
    }

    @Test
    void nonFiniteActivationsPropagateAsNaNOnTheInt8Path() {
        int n = 3;
        int k = 64;
        SplittableRandom rnd = new SplittableRandom(3);
        QuantizedMatrix q = GroupQuantizer.quantize(ConfigId.parse("fp4-g32"), n, k, gaussian(n * k, rnd, 0.1), arena);
        float[] x = gaussian(k, rnd, 1);
        x[40] = Float.POSITIVE_INFINITY;
        for (float v : NativeKernels.gemm(q, ActivationMode.INT8, x, 1)) {
            assertThat(v).isNaN();
        }
        x[40] = Float.NaN;
        for (float v : NativeKernels.gemm(q, ActivationMode.FP32, x, 1)) {
            assertThat(v).isNaN();
        }
    }

    @Test
    void badCallsAreExceptionsNotCrashes() {
        QuantizedMatrix q = GroupQuantizer.quantize(ConfigId.parse("int4-g32"), 4, 64, new float[4 * 64], arena);
        MemorySegment x = arena.allocate(64 * 4, 64);
        MemorySegment y = arena.allocate(4 * 4, 64);
        assertThatThrownBy(() -> NativeKernels.gemm(q, ActivationMode.FP32, x, 2, y))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x holds 256 bytes");
        assertThatThrownBy(() -> NativeKernels.gemm(q, ActivationMode.FP32, x, 0, y))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch m must be >= 1");
        assertThatThrownBy(() -> NativeKernels.gemm(q, ActivationMode.FP32, x, 1, 63, y, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leading dimensions");
        assertThatThrownBy(() -> NativeKernels.gemm(q, ActivationMode.FP32, MemorySegment.ofArray(new float[64]), 1, y))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("native");
        assertThatThrownBy(() -> NativeKernels.gemm(q, ActivationMode.FP32, x, 1, arena.allocate(8, 64)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("y holds 8 bytes");
        QuantizedMatrix dense = GroupQuantizer.quantize(ConfigId.parse("fp16"), 4, 64, new float[4 * 64], arena);
        assertThatThrownBy(() -> NativeKernels.gemm(dense, ActivationMode.INT8, x, 1, y))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("int8 activations need a quantized");
        Arena closed = Arena.ofConfined();
        MemorySegment gone = closed.allocate(64 * 4, 64);
        closed.close();
        assertThatThrownBy(() -> NativeKernels.gemm(q, ActivationMode.FP32, gone, 1, y)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> NativeKernels.setThreads(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Isa.fromId("sse9")).hasMessageContaining("unknown ISA 'sse9'");
    }

    @Test
    void isaDispatchCanBeOverridden() {
        assertThat(NativeKernels.isSupported(Isa.SCALAR)).isTrue();
        NativeKernels.setIsa(Isa.SCALAR);
        assertThat(NativeKernels.isa()).isEqualTo(Isa.SCALAR);
        NativeKernels.setIsa(original);
        assertThat(NativeKernels.isa()).isEqualTo(original);
    }

    @Test
    void causalSoftmaxMatchesDoublePrecisionOnEveryTier() {
        SplittableRandom rnd = new SplittableRandom(21);
        for (Isa isa : Isa.values()) {
            if (!NativeKernels.isSupported(isa)) {
                continue;
            }
            NativeKernels.setIsa(isa);
            int rows = 37;
            int first = 90;
            int ld = 140;
            float scale = 0.35f;
            float[] orig = gaussian(rows * ld, rnd, 8);
            MemorySegment att = arena.allocate((long) rows * ld * 4, 64);
            MemorySegment.copy(orig, 0, att, ValueLayout.JAVA_FLOAT, 0, orig.length);
            NativeKernels.softmaxCausal(att, rows, ld, first, scale);
            for (int r = 0; r < rows; r++) {
                int n = first + r;
                double mx = Double.NEGATIVE_INFINITY;
                for (int p = 0; p < n; p++) {
                    mx = Math.max(mx, orig[r * ld + p]);
                }
                double sum = 0;
                for (int p = 0; p < n; p++) {
                    sum += Math.exp((orig[r * ld + p] - mx) * scale);
                }
                for (int p = 0; p < ld; p++) {
                    float got = att.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * ld + p);
                    if (p >= n) {
                        assertThat(got).as("%s masked row %d col %d", isa, r, p).isZero();
                        continue;
                    }
                    double x = Math.abs((orig[r * ld + p] - mx) * scale);
                    double ref = Math.exp((orig[r * ld + p] - mx) * scale) / sum;
                    // fp32 argument rounding, the exp polynomial, the fp32 sum of n terms
                    double tol = ref * (x * 2.5e-7 + (n + 10) * 6e-8 + 1e-6) + 1e-37;
                    assertThat(Math.abs(got - ref)).as("%s row %d col %d", isa, r, p).isLessThanOrEqualTo(tol);
                }
            }
        }
        NativeKernels.setIsa(original);
        assertThatThrownBy(() -> NativeKernels.softmaxCausal(arena.allocate(64, 64), 2, 4, 4, 1f))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("do not fit");
        assertThatThrownBy(() -> NativeKernels.softmaxCausal(arena.allocate(16, 64), 2, 4, 1, 1f))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds 16 bytes");
    }

    @Test
    void fusedAttentionMatchesDoublePrecisionOnEveryTier() {
        SplittableRandom rnd = new SplittableRandom(33);
        // query blocks of 16 and 8 with ragged ends, one query at a long position, head sizes 8 (stories260K), 17 and 64
        int[][] cases = {{1, 8, 4, 8, 0}, {37, 8, 4, 8, 0}, {5, 4, 1, 64, 90}, {19, 6, 2, 17, 3}, {1, 2, 2, 128, 300},
            {101, 8, 4, 8, 0}, {50, 4, 2, 64, 17}};
        for (Isa isa : Isa.values()) {
            if (!NativeKernels.isSupported(isa)) {
                continue;
            }
            NativeKernels.setIsa(isa);
            for (int[] c : cases) {
                int t = c[0], heads = c[1], kvh = c[2], hs = c[3], start = c[4];
                int ld = start + t + 5;
                long stride = (long) hs * ld;
                float scale = (float) (1 / Math.sqrt(hs));
                float[] q = gaussian(t * heads * hs, rnd, 1);
                float[] kt = gaussian((int) (kvh * stride), rnd, 1);
                float[] vt = gaussian((int) (kvh * stride), rnd, 1);
                MemorySegment qs = copy(q), ks = copy(kt), vs = copy(vt);
                MemorySegment out = arena.allocate(4L * t * heads * hs, 64);
                NativeKernels.attention(t, heads, kvh, hs, start, qs, (long) heads * hs, ks, vs, stride, ld, scale, out,
                        (long) heads * hs);
                for (int tt = 0; tt < t; tt++) {
                    for (int h = 0; h < heads; h++) {
                        int g = h / (heads / kvh), n = start + tt + 1;
                        double[] sc = new double[n];
                        double mx = Double.NEGATIVE_INFINITY, sabs = 0, sum = 0, vmax = 0;
                        for (int p = 0; p < n; p++) {
                            double d = 0, abs = 0;
                            for (int i = 0; i < hs; i++) {
                                double term = (double) q[tt * heads * hs + h * hs + i] * scale * kt[(int) (g * stride + (long) i * ld + p)];
                                d += term;
                                abs += Math.abs(term);
                            }
                            sc[p] = d;
                            mx = Math.max(mx, d);
                            sabs = Math.max(sabs, abs);
                        }
                        for (int p = 0; p < n; p++) {
                            sc[p] = Math.exp(sc[p] - mx);
                            sum += sc[p];
                            for (int i = 0; i < hs; i++) {
                                vmax = Math.max(vmax, Math.abs(vt[(int) (g * stride + (long) i * ld + p)]));
                            }
                        }
                        // the bound of docs/kernels.md: score rounding moves the probabilities, the n-term sums add
                        double tol = vmax * (sabs * (hs + 8) * 2.5e-7 + (n + 10) * 1.2e-7 + 2e-6);
                        for (int i = 0; i < hs; i++) {
                            double ref = 0;
                            for (int p = 0; p < n; p++) {
                                ref += sc[p] * vt[(int) (g * stride + (long) i * ld + p)];
                            }
                            ref /= sum;
                            float got = out.getAtIndex(ValueLayout.JAVA_FLOAT, (long) tt * heads * hs + (long) h * hs + i);
                            assertThat(Math.abs(got - ref)).as("%s case %s t=%d h=%d i=%d", isa,
                                    java.util.Arrays.toString(c), tt, h, i).isLessThanOrEqualTo(tol);
                        }
                    }
                }
            }
        }
        NativeKernels.setIsa(original);
        MemorySegment small = arena.allocate(64, 64);
        assertThatThrownBy(() -> NativeKernels.attention(1, 3, 2, 4, 0, small, 12, small, small, 4, 1, 1f, small, 12))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of kv heads");
        assertThatThrownBy(() -> NativeKernels.attention(5, 1, 1, 4, 0, small, 4, small, small, 32, 8, 1f, small, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("queries holds 64 bytes");
        assertThatThrownBy(() -> NativeKernels.attention(1, 1, 1, 4, 5, small, 4, small, small, 16, 4, 1f, small, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot hold 6 positions");
    }

    @Test
    void swigluMatchesDoublePrecision() {
        SplittableRandom rnd = new SplittableRandom(5);
        int n = 40_001;
        float[] g = gaussian(n, rnd, 10);
        float[] u = gaussian(n, rnd, 2);
        MemorySegment gs = copy(g), us = copy(u);
        NativeKernels.swiglu(gs, us, n);
        for (int i = 0; i < n; i++) {
            double ref = g[i] / (1 + Math.exp(-g[i])) * u[i];
            assertThat(Math.abs(gs.getAtIndex(ValueLayout.JAVA_FLOAT, i) - ref)).as("i=%d", i)
                    .isLessThanOrEqualTo(Math.abs(ref) * (Math.abs(g[i]) * 2.5e-7 + 1e-6) + 1e-30);
        }
        assertThatThrownBy(() -> NativeKernels.swiglu(gs, arena.allocate(8, 64), 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("up holds 8 bytes");
    }

    @Test
    void addRmsnormMatchesDoublePrecisionWithTheSameBitsOnEveryTier() {
        SplittableRandom rnd = new SplittableRandom(17);
        int rows = 70, dim = 83;
        long ldx = dim + 2, ldd = dim + 1, ldo = dim;
        float[] x = gaussian((int) (rows * ldx), rnd, 3), d = gaussian((int) (rows * ldd), rnd, 1);
        float[] w = gaussian(dim, rnd, 1);
        float eps = 1e-5f;
        float[] first = null;
        for (Isa isa : Isa.values()) {
            if (!NativeKernels.isSupported(isa)) {
                continue;
            }
            NativeKernels.setIsa(isa);
            MemorySegment xs = copy(x), ds = copy(d), ws = copy(w), out = arena.allocate(4L * rows * ldo, 64);
            NativeKernels.addRmsnorm(xs, ldx, ds, ldd, out, ldo, ws, rows, dim, eps);
            float[] got = out.toArray(ValueLayout.JAVA_FLOAT);
            for (int r = 0; r < rows; r++) {
                double ss = 0;
                double[] sum = new double[dim];
                for (int i = 0; i < dim; i++) {
                    sum[i] = (double) x[(int) (r * ldx) + i] + d[(int) (r * ldd) + i];
                    ss += sum[i] * sum[i];
                    // the residual is written back to x
                    assertThat(xs.getAtIndex(ValueLayout.JAVA_FLOAT, r * ldx + i)).isEqualTo(x[(int) (r * ldx) + i] + d[(int) (r * ldd) + i]);
                }
                double inv = 1 / Math.sqrt(ss / dim + eps);
                for (int i = 0; i < dim; i++) {
                    double ref = w[i] * sum[i] * inv;
                    assertThat(Math.abs(got[(int) (r * ldo) + i] - ref)).as("%s r=%d i=%d", isa, r, i)
                            .isLessThanOrEqualTo(Math.abs(w[i] * sum[i] * inv) * (dim + 8) * 2 * U + 1e-6);
                }
            }
            if (first == null) {
                first = got;
            } else {
                assertThat(got).as("%s gives the first tier's bits", isa).isEqualTo(first);
            }
        }
        NativeKernels.setIsa(original);
        MemorySegment small = arena.allocate(64, 64);
        assertThatThrownBy(() -> NativeKernels.addRmsnorm(small, 16, null, 0, small, 16, small, 2, 16, 1e-5f))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("residual rows holds 64 bytes");
        assertThatThrownBy(() -> NativeKernels.addRmsnorm(small, 4, null, 0, small, 4, small, 1, 4, Float.NaN))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("eps");
        // a stride so large that the size computation would wrap: an error, not a write far past the buffer
        assertThatThrownBy(() -> NativeKernels.addRmsnorm(small, 1L << 61, null, 0, small, 16, small, 2, 16, 1e-5f))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overflow");
        assertThatThrownBy(() -> NativeKernels.addRmsnorm(small, 4, null, 0, small.asSlice(4), 4, small, 2, 4, 1e-5f))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlaps x");
    }

    @Test
    void ropeTurnsEachPairByItsTableAngleInBothStyles() {
        SplittableRandom rnd = new SplittableRandom(23);
        int rows = 21, heads = 3, hs = 8, half = hs / 2, start = 7, positions = 40;
        long ldx = heads * hs + 3;
        float[] cos = new float[positions * half], sin = new float[positions * half];
        for (int i = 0; i < cos.length; i++) {
            cos[i] = (float) Math.cos(0.3 * i);
            sin[i] = (float) Math.sin(0.3 * i);
        }
        for (boolean rotateHalf : new boolean[] {false, true}) {
            float[] x = gaussian((int) (rows * ldx), rnd, 2);
            MemorySegment xs = copy(x);
            NativeKernels.rope(xs, rows, ldx, heads, hs, start, copy(cos), copy(sin), positions, rotateHalf);
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < half; i++) {
                        int b = (int) (r * ldx) + h * hs, ia = rotateHalf ? i : 2 * i, ib = rotateHalf ? i + half : 2 * i + 1;
                        double c = cos[(start + r) * half + i], sn = sin[(start + r) * half + i];
                        double ra = x[b + ia] * c - x[b + ib] * sn, rb = x[b + ia] * sn + x[b + ib] * c;
                        double tol = (Math.abs(x[b + ia]) + Math.abs(x[b + ib])) * 3e-7;
                        assertThat(Math.abs(xs.getAtIndex(ValueLayout.JAVA_FLOAT, b + ia) - ra)).isLessThanOrEqualTo(tol);
                        assertThat(Math.abs(xs.getAtIndex(ValueLayout.JAVA_FLOAT, b + ib) - rb)).isLessThanOrEqualTo(tol);
                    }
                }
                for (long i = (long) heads * hs; i < ldx; i++) {
                    assertThat(xs.getAtIndex(ValueLayout.JAVA_FLOAT, r * ldx + i)).as("past the heads")
                            .isEqualTo(x[(int) (r * ldx + i)]);
                }
            }
        }
        MemorySegment small = arena.allocate(4096, 64);
        assertThatThrownBy(() -> NativeKernels.rope(small, 10, 8, 1, 8, 35, small, small, 40, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("past the tables' 40 positions");
        assertThatThrownBy(() -> NativeKernels.rope(small, 1, 8, 1, 7, 0, small, small, 40, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("even head size");
    }

    /**
     * Panels give the plain path's bits where both run the panel kernel (M > 4). Calls with M ≤ 4 read them too on the
     * AVX-512 tiers (decode: one forward stream, docs/kernels.md): within the oracle's bound, and each row the bits of
     * the same row in a batched (M = 8) call, since the panel kernel's integer sums are exact and its fp32 steps per
     * row do not depend on M (up to M = 32: int4 batches of more fold the zero points into the expanded weights). The
     * other tiers ignore the panels: the plain path's bits.
     */
    @Test
    void prepackedPanelsMatchThePlainPathOnEveryTier() {
        SplittableRandom rnd = new SplittableRandom(41);
        for (String id : new String[] {"int8-g32", "int4-g64", "int4s-g32", "fp4-g128", "nf4-g64", "int4-g128"}) {
            // odd N (a ragged last panel), K not a multiple of 32 (nor of the group: a short last group)
            QuantizedMatrix w = GroupQuantizer.quantize(ConfigId.parse(id), 37, 301, gaussian(37 * 301, rnd, 1), arena);
            try (Arena panelsArena = Arena.ofConfined()) {
                NativeKernels.PackedPanels panels = NativeKernels.packPanels(w, panelsArena);
                assertThat(panels.weights()).isSameAs(w);
                assertThat(panels.segment().byteSize()).isEqualTo(NativeKernels.panelsBytes(w));
                for (Isa isa : Isa.values()) {
                    if (!NativeKernels.isSupported(isa)) {
                        continue;
                    }
                    NativeKernels.setIsa(isa);
                    boolean panelTier = isa == Isa.AVX512 || isa == Isa.AVX512BF16;
                    for (int m : new int[] {1, 2, 3, 4, 8, 40}) {
                        float[] x = gaussian(m * 301, rnd, 1);
                        MemorySegment xs = copy(x);
                        MemorySegment plain = arena.allocate(4L * m * 37, 64), viaPanels = arena.allocate(4L * m * 37, 64);
                        NativeKernels.gemm(w, ActivationMode.INT8, xs, m, 301, plain, 37);
                        NativeKernels.gemm(w, ActivationMode.INT8, xs, m, 301, viaPanels, 37, panels);
                        float[] got = viaPanels.toArray(ValueLayout.JAVA_FLOAT);
                        if (m > 4) {
                            assertThat(got).as("%s %s m=%d", id, isa, m).isEqualTo(plain.toArray(ValueLayout.JAVA_FLOAT));
                        } else {
                            double[] ref = ReferenceKernels.matmulQ8(w, x, m);
                            double[] abs = magnitudes(w, x, m);
                            for (int i = 0; i < got.length; i++) {
                                assertThat(Math.abs(got[i] - ref[i])).as("%s %s m=%d at %d", id, isa, m, i)
                                        .isLessThanOrEqualTo(int8Bound(301, abs[i]));
                            }
                            float[] want = plain.toArray(ValueLayout.JAVA_FLOAT);
                            if (panelTier) { // the batched panel kernel's rows: these m rows and zero rows up to 8
                                MemorySegment y8 = arena.allocate(4L * 8 * 37, 64);
                                NativeKernels.gemm(w, ActivationMode.INT8, copy(Arrays.copyOf(x, 8 * 301)), 8, 301, y8, 37);
                                want = Arrays.copyOf(y8.toArray(ValueLayout.JAVA_FLOAT), m * 37);
                                assertThat(got).as("%s %s m=%d: not the row kernels' result", id, isa, m)
                                        .isNotEqualTo(plain.toArray(ValueLayout.JAVA_FLOAT));
                            }
                            assertThat(got).as("%s %s m=%d with panels given", id, isa, m).isEqualTo(want);
                        }
                    }
                }
                NativeKernels.setIsa(original);
                var wrong = new NativeKernels.PackedPanels(w, panelsArena.allocate(panels.segment().byteSize() - 64, 64));
                MemorySegment xs = copy(new float[8 * 301]), ys = arena.allocate(4L * 8 * 37, 64);
                assertThatThrownBy(() -> NativeKernels.gemm(w, ActivationMode.INT8, xs, 8, 301, ys, 37, wrong))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("are not packPanels of");
                // same sizes, another matrix: the sizes alone cannot tell
                QuantizedMatrix other = GroupQuantizer.quantize(ConfigId.parse(id), 37, 301, gaussian(37 * 301, rnd, 1),
                        arena);
                assertThatThrownBy(() -> NativeKernels.gemm(other, ActivationMode.INT8, xs, 8, 301, ys, 37, panels))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("packed from another matrix");
            }
        }
    }

    /**
     * Reading ahead between decode GEMVs ({@link NativeKernels#setReadAhead}) changes no bit: a sequence of M = 1
     * calls on two matrices' panels, which teaches each call its successor, gives the same outputs with it off and on,
     * on two threads (a pool thread reads ahead only once it has no task left); sizes outside 0 .. 2^30 are refused.
     */
    @Test
    void readingAheadBetweenGemvsKeepsTheBits() {
        SplittableRandom rnd = new SplittableRandom(43);
        int before = NativeKernels.threads();
        NativeKernels.setThreads(2);
        try (Arena panelsArena = Arena.ofConfined()) {
            QuantizedMatrix a = GroupQuantizer.quantize(ConfigId.parse("int4s-g32"), 515, 640, gaussian(515 * 640, rnd, 1), arena);
            QuantizedMatrix b = GroupQuantizer.quantize(ConfigId.parse("int8-g32"), 640, 515, gaussian(640 * 515, rnd, 1), arena);
            NativeKernels.PackedPanels pa = NativeKernels.packPanels(a, panelsArena), pb = NativeKernels.packPanels(b, panelsArena);
            MemorySegment xa = copy(gaussian(640, rnd, 1)), ya = arena.allocate(4L * 515, 64), yb = arena.allocate(4L * 640, 64);
            float[][] off = new float[2][];
            for (long readAhead : new long[] {0, 768 << 10, 1 << 30}) {
                NativeKernels.setReadAhead(readAhead);
                for (int rep = 0; rep < 4; rep++) { // a, then b on a's output: a decode's chain of calls
                    NativeKernels.gemm(a, ActivationMode.INT8, xa, 1, 640, ya, 515, pa);
                    NativeKernels.gemm(b, ActivationMode.INT8, ya, 1, 515, yb, 640, pb);
                    float[] gotA = ya.toArray(ValueLayout.JAVA_FLOAT), gotB = yb.toArray(ValueLayout.JAVA_FLOAT);
                    if (off[0] == null) {
                        off[0] = gotA;
                        off[1] = gotB;
                    }
                    assertThat(gotA).as("a, read-ahead %d, rep %d", readAhead, rep).isEqualTo(off[0]);
                    assertThat(gotB).as("b, read-ahead %d, rep %d", readAhead, rep).isEqualTo(off[1]);
                }
            }
        } finally {
            NativeKernels.setReadAhead(768 << 10);
            NativeKernels.setThreads(before);
        }
        assertThatThrownBy(() -> NativeKernels.setReadAhead(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0 .. 2^30");
        assertThatThrownBy(() -> NativeKernels.setReadAhead((1L << 30) + 1)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Prepacked small-K fp32 panels (stories-class K) give the plain call's bits on every tier, for batches that take
     * the small-K path (M 64, 100) and those that do not (M 1, 8): the AVX-512 tiers read them, the others ignore them.
     * Where no tier reads them (no AVX-512) none are packed; K past 512 gets none either.
     */
    @Test
    void prepackedSmallKPanelsGiveThePlainPathsBits() {
        SplittableRandom rnd = new SplittableRandom(43);
        boolean avx512 = NativeKernels.isSupported(Isa.AVX512);
        for (String id : new String[] {"fp32", "fp16", "int8-g32", "int4-g64", "int4s-g32", "fp4-g128", "nf4-g64"}) {
            // K 172 (stories260K's down projection), N = 2 panels and a ragged third
            QuantizedMatrix w = GroupQuantizer.quantize(ConfigId.parse(id), 150, 172, gaussian(150 * 172, rnd, 1), arena);
            try (Arena ntArena = Arena.ofConfined()) {
                NativeKernels.SmallKPanels nt = NativeKernels.packSmallK(w, ntArena);
                if (!avx512) {
                    assertThat(nt).as("%s: no tier reads small-K panels here", id).isNull();
                    continue;
                }
                assertThat(nt).as(id).isNotNull();
                assertThat(nt.weights()).isSameAs(w);
                assertThat(nt.segment().byteSize()).isEqualTo(NativeKernels.smallKBytes(w)).isEqualTo(3L * 64 * 172 * 4);
                for (Isa isa : Isa.values()) {
                    if (!NativeKernels.isSupported(isa)) {
                        continue;
                    }
                    NativeKernels.setIsa(isa);
                    for (int m : new int[] {1, 8, 64, 100}) {
                        MemorySegment xs = copy(gaussian(m * 172, rnd, 1));
                        MemorySegment plain = arena.allocate(4L * m * 150, 64), packed = arena.allocate(4L * m * 150, 64);
                        NativeKernels.gemm(w, ActivationMode.FP32, xs, m, 172, plain, 150);
                        NativeKernels.gemmSmallK(w, xs, m, 172, packed, 150, nt);
                        assertThat(packed.toArray(ValueLayout.JAVA_FLOAT)).as("%s %s m=%d", id, isa, m)
                                .isEqualTo(plain.toArray(ValueLayout.JAVA_FLOAT));
                    }
                }
                NativeKernels.setIsa(original);
                var wrong = new NativeKernels.SmallKPanels(w, ntArena.allocate(nt.segment().byteSize() - 64, 64));
                MemorySegment xs = copy(new float[64 * 172]), ys = arena.allocate(4L * 64 * 150, 64);
                assertThatThrownBy(() -> NativeKernels.gemmSmallK(w, xs, 64, 172, ys, 150, wrong))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("are not packSmallK of");
                // same sizes, another matrix: the sizes alone cannot tell
                QuantizedMatrix other = GroupQuantizer.quantize(ConfigId.parse(id), 150, 172,
                        gaussian(150 * 172, rnd, 1), arena);
                assertThatThrownBy(() -> NativeKernels.gemmSmallK(other, xs, 64, 172, ys, 150, nt))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("packed from another matrix");
            }
        }
        QuantizedMatrix wide = GroupQuantizer.quantize(ConfigId.parse("int8-g32"), 8, 544, gaussian(8 * 544, rnd, 1), arena);
        assertThat(NativeKernels.smallKBytes(wide)).as("K 544 > 512").isZero();
    }

    @Test
    void kvStoreWritesEachHeadTransposedAtItsPositions() {
        SplittableRandom rnd = new SplittableRandom(29);
        int rows = 37, heads = 3, hs = 5, start = 11, seq = 60;
        long ld = heads * hs + 4, headStride = (long) hs * seq + 2;
        float[] src = gaussian((int) (rows * ld), rnd, 1);
        MemorySegment cache = arena.allocate(4L * heads * headStride, 64);
        cache.fill((byte) 0x7f); // anything not written keeps this pattern
        NativeKernels.kvStore(copy(src), rows, ld, heads, hs, cache, headStride, seq, start);
        float untouched = Float.intBitsToFloat(0x7f7f7f7f);
        for (int g = 0; g < heads; g++) {
            for (int i = 0; i < hs; i++) {
                for (int p = 0; p < seq; p++) {
                    float got = cache.getAtIndex(ValueLayout.JAVA_FLOAT, g * headStride + (long) i * seq + p);
                    float want = p >= start && p < start + rows ? src[(int) ((p - start) * ld) + g * hs + i] : untouched;
                    assertThat(got).as("head %d dim %d position %d", g, i, p).isEqualTo(want);
                }
            }
        }
        assertThatThrownBy(() -> NativeKernels.kvStore(copy(src), rows, ld, heads, hs, cache, headStride, 40, start))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot hold positions 11..47");
        assertThatThrownBy(() -> NativeKernels.kvStore(copy(src), rows, ld, heads, hs, cache, 5L << 59, 1L << 59,
                start)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overflow");
    }

    private MemorySegment copy(float[] a) {
        MemorySegment s = arena.allocate(4L * a.length, 64);
        MemorySegment.copy(a, 0, s, ValueLayout.JAVA_FLOAT, 0, a.length);
        return s;
    }

    @Test
    void streamReadSumsTheBuffer() {
        MemorySegment buf = arena.allocate(1 << 16, 64);
        long expect = 0;
        for (long i = 0; i < buf.byteSize() / 8; i++) {
            buf.setAtIndex(ValueLayout.JAVA_LONG, i, i * 3);
            expect += i * 3;
        }
        assertThat(NativeKernels.streamRead(buf, buf.byteSize())).isEqualTo(expect);
        assertThat(WeightFormat.values()).hasSize(8);
    }
}
