package io.quantgate.kernels.nativeimpl;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.GroupQuantizer;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.reference.ReferenceKernels;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The native kernels on REAL trained weights: Karpathy's llama2.c {@code stories260K} checkpoint from
 * {@code shared/data} (see {@code shared/data/README.md}), whose matrices have the outliers and
 * per-row scale spread of a trained model and an inner dimension (hidden 172) that no group size
 * divides. Each matrix is quantized in every format, run through {@link NativeKernels#gemm} on every
 * ISA tier this CPU supports and checked against the Java oracle with the same rounding bounds as
 * {@link NativeKernelsTest}; then the end-to-end error against fp64 math on the original weights is
 * bounded per format.
 */
class RealWeightsTest {
    private static final double U = Math.ulp(1.0f) / 2; // fp32 unit roundoff 2^-24

    // llama2.c legacy header of stories260K (README: dim=64, hidden_dim=172, n_layers=5, ...)
    private static final int DIM = 64;
    private static final int HIDDEN = 172;
    private static final int LAYERS = 5;
    private static final int HEADS = 8;
    private static final int KV_HEADS = 4;
    private static final int VOCAB = 512;
    private static final int SEQ_LEN = 512;
    private static final int KV_DIM = DIM * KV_HEADS / HEADS; // 32
    private static final int HEAD_SIZE = DIM / HEADS;         // 8

    private static final List<String> CONFIGS = List.of("fp16", "bf16", "int8", "int4-g32", "int4-g64", "int4s-g32", "fp4-g32",
            "fp4-g64", "nf4-g64", "int4-g128", "fp4-g256");

    /**
     * Relative RMS error bound per config of the fp32-activation native output against fp64 math on the
     * ORIGINAL weights ({@code ||y - y_true|| / ||y_true||} over all outputs, batch 7, Gaussian
     * activations). Measured on wq / w1 / w2 of layer 0 with this test's seeds (deterministic; the
     * kernels' rounding differences between ISA tiers are far below the last digit); each bound is about
     * 2x the largest of the three:
     * <pre>
     *   config      wq[64x64]  w1[172x64]  w2[64x172]   bound
     *   fp16        2.02e-4    2.08e-4     2.25e-4      5e-4
     *   bf16        1.75e-3    1.74e-3     1.97e-3      4e-3
     *   int8        5.55e-3    5.80e-3     7.66e-3      1.5e-2
     *   int4-g32    7.89e-2    7.27e-2     8.54e-2      0.17
     *   int4-g64    1.01e-1    8.42e-2     9.77e-2      0.20
     *   int4s-g32   8.35e-2    9.08e-2     1.02e-1      0.20
     *   fp4-g32     1.07e-1    9.41e-2     1.09e-1      0.22
     *   fp4-g64     1.11e-1    9.99e-2     1.11e-1      0.22
     *   nf4-g64     9.43e-2    8.57e-2     9.93e-2      0.20
     *   int4-g128   1.01e-1    8.42e-2     9.96e-2      0.20   (clamped to per row: = int4-g64 where K = 64)
     *   fp4-g256    1.11e-1    9.99e-2     1.16e-1      0.23   (clamped to per row)
     * </pre>
     */
    private static final Map<String, Double> RMS_BOUND = Map.ofEntries(
            Map.entry("fp16", 5e-4), Map.entry("bf16", 4e-3), Map.entry("int8", 1.5e-2),
            Map.entry("int4-g32", 0.17), Map.entry("int4-g64", 0.20), Map.entry("int4s-g32", 0.20), Map.entry("fp4-g32", 0.22),
            Map.entry("fp4-g64", 0.22), Map.entry("nf4-g64", 0.20), Map.entry("int4-g128", 0.20), Map.entry("fp4-g256", 0.23));

    private static Path checkpoint;
    private static float[] weights; // every float after the 28-byte header
    private static Isa originalIsa;

    private final Arena arena = Arena.ofConfined();

    /** A weight matrix of the checkpoint: name, [rows, cols] and the float offset after the header. */
    record Tensor(String name, int rows, int cols, int offset) {
        float[] read() {
            float[] w = new float[rows * cols];
            System.arraycopy(weights, offset, w, 0, w.length);
            return w;
        }

        @Override
        public String toString() {
            return name + "[" + rows + "x" + cols + "]";
        }
    }

    // float offsets in the README's order: tok_embeddings[512*64], rms_att[5*64], wq[5*64*64], wk[5*32*64],
    // wv[5*32*64], wo[5*64*64], rms_ffn[5*64], w1[5*172*64], w2[5*64*172], w3[5*172*64], rms_final[64],
    // freq_cis_real[512*4], freq_cis_imag[512*4]
    private static final int OFF_TOK = 0;
    private static final int OFF_RMS_ATT = OFF_TOK + VOCAB * DIM;
    private static final int OFF_WQ = OFF_RMS_ATT + LAYERS * DIM;
    private static final int OFF_WK = OFF_WQ + LAYERS * DIM * DIM;
    private static final int OFF_WV = OFF_WK + LAYERS * KV_DIM * DIM;
    private static final int OFF_WO = OFF_WV + LAYERS * KV_DIM * DIM;
    private static final int OFF_RMS_FFN = OFF_WO + LAYERS * DIM * DIM;
    private static final int OFF_W1 = OFF_RMS_FFN + LAYERS * DIM;
    private static final int OFF_W2 = OFF_W1 + LAYERS * HIDDEN * DIM;
    private static final int OFF_W3 = OFF_W2 + LAYERS * DIM * HIDDEN;
    private static final int OFF_RMS_FINAL = OFF_W3 + LAYERS * HIDDEN * DIM;
    private static final int OFF_FREQ_REAL = OFF_RMS_FINAL + DIM;
    private static final int OFF_FREQ_IMAG = OFF_FREQ_REAL + SEQ_LEN * HEAD_SIZE / 2;
    private static final int TOTAL_FLOATS = OFF_FREQ_IMAG + SEQ_LEN * HEAD_SIZE / 2;

    static final Tensor WQ0 = new Tensor("layers.0.wq", DIM, DIM, OFF_WQ);
    static final Tensor W1_0 = new Tensor("layers.0.w1", HIDDEN, DIM, OFF_W1);
    static final Tensor W2_0 = new Tensor("layers.0.w2", DIM, HIDDEN, OFF_W2);

    /** Candidate locations, in order: the surefire property, then shared/data relative to the module or the repo root. */
    static List<Path> candidates() {
        List<Path> out = new ArrayList<>();
        String prop = System.getProperty("quantgate.data.dir");
        if (prop != null && !prop.isBlank()) {
            out.add(Path.of(prop));
        }
        Path cwd = Path.of(System.getProperty("user.dir"));
        out.add(cwd.resolve("../../shared/data")); // run from kernels-native/
        out.add(cwd.resolve("../shared/data"));    // run from the repository root
        return out.stream().map(p -> p.resolve("llama2c-stories260K/stories260K.bin").toAbsolutePath().normalize()).toList();
    }

    @BeforeAll
    static void load() throws IOException {
        originalIsa = NativeKernels.isa();
        List<Path> looked = candidates();
        checkpoint = looked.stream().filter(Files::isRegularFile).findFirst().orElse(null);
        Assumptions.assumeTrue(checkpoint != null, () -> "stories260K checkpoint not found; looked at " + looked
                + " (the file comes from shared/data, see shared/data/README.md; set -Dquantgate.data.dir=<shared/data>)");
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(checkpoint)).order(ByteOrder.LITTLE_ENDIAN);
        int[] header = new int[7];
        for (int i = 0; i < 7; i++) {
            header[i] = bb.getInt();
        }
        assertThat(header).as("llama2.c header of %s", checkpoint).containsExactly(DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ_LEN);
        assertThat(TOTAL_FLOATS).isEqualTo(264_128); // README: "Then 264,128 float32 values"
        assertThat(Files.size(checkpoint)).isEqualTo(28L + 4L * TOTAL_FLOATS).isEqualTo(1_056_540L);
        weights = new float[TOTAL_FLOATS];
        bb.asFloatBuffer().get(weights);
    }

    @AfterAll
    static void restore() {
        if (originalIsa != null) {
            NativeKernels.setIsa(originalIsa);
        }
    }

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void checkpointLooksLikeTrainedWeights() {
        // offsets by hand: wq starts after 512*64 + 5*64 floats, w1 after 94,848, w2 after 149,888
        assertThat(OFF_WQ).isEqualTo(33_088);
        assertThat(OFF_W1).isEqualTo(94_848);
        assertThat(OFF_W2).isEqualTo(149_888);
        for (float v : weights) {
            assertThat(Float.isFinite(v)).isTrue();
        }
        // RMSNorm gains of a trained model are not the initial 1.0 everywhere, but positive on average
        double gainMean = 0;
        for (int i = 0; i < DIM; i++) {
            gainMean += weights[OFF_RMS_ATT + i] / DIM;
        }
        assertThat(gainMean).isPositive();
        // freq_cis_real[pos=1][i=0] = cos(1 * 10000^0) = cos 1, freq_cis_imag[1][0] = sin 1 (README: within 2.3e-6)
        assertThat((double) weights[OFF_FREQ_REAL + HEAD_SIZE / 2]).isCloseTo(Math.cos(1), org.assertj.core.data.Offset.offset(3e-6));
        assertThat((double) weights[OFF_FREQ_IMAG + HEAD_SIZE / 2]).isCloseTo(Math.sin(1), org.assertj.core.data.Offset.offset(3e-6));
        assertThat((double) weights[OFF_FREQ_REAL]).isCloseTo(1.0, org.assertj.core.data.Offset.offset(3e-6));
        for (Tensor t : List.of(WQ0, W1_0, W2_0)) {
            float[] w = t.read();
            double sum2 = 0;
            float absmax = 0;
            for (float v : w) {
                sum2 += (double) v * v;
                absmax = Math.max(absmax, Math.abs(v));
            }
            double rms = Math.sqrt(sum2 / w.length);
            // trained weights: not zero, not huge, with outliers well beyond the RMS (kurtosis of real layers)
            assertThat(rms).as("%s rms", t).isBetween(1e-3, 1.0);
            assertThat((double) absmax).as("%s absmax", t).isGreaterThan(3 * rms);
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Tensor t : List.of(WQ0, W1_0, W2_0)) {
            for (String id : CONFIGS) {
                out.add(Arguments.of(t, id));
            }
        }
        return out.stream();
    }

    private static float[] gaussian(int count, SplittableRandom rnd) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble()));
        }
        return v;
    }

    private static float[] activations(Tensor t, int m, String id) {
        return gaussian(m * t.cols(), new SplittableRandom(31L * t.offset() + 7L * m + id.hashCode()));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void nativeKernelsMatchTheOracleOnRealWeights(Tensor t, String id) {
        ConfigId config = ConfigId.parse(id);
        int n = t.rows();
        int k = t.cols();
        QuantizedMatrix q = GroupQuantizer.quantize(config, n, k, t.read(), arena, t.name());
        // group layout on these shapes: K=172 gives a short last group for g32/g64, and g128/g256 clamp to per row
        if (config.format().isQuantized()) {
            int g = config.group() == 0 || config.group() > k ? k : config.group();
            assertThat(q.groupSize()).isEqualTo(g);
            assertThat(q.groupsPerRow()).isEqualTo((k + g - 1) / g);
            assertThat(q.groupClamped()).isEqualTo(config.group() > k);
            if (k == HIDDEN && config.group() == 32) {
                assertThat(q.groupsPerRow()).isEqualTo(6); // 5 x 32 + 12
            }
            if (k == HIDDEN && config.group() == 64) {
                assertThat(q.groupsPerRow()).isEqualTo(3); // 2 x 64 + 44
            }
        }
        int checked = 0;
        for (Isa isa : Isa.values()) {
            if (!NativeKernels.isSupported(isa)) {
                continue;
            }
            NativeKernels.setIsa(isa);
            for (int m : new int[] {1, 7}) {
                float[] x = activations(t, m, id);
                double[] abs = ReferenceKernels.matmulAbs(q, x, m);
                float[] y = NativeKernels.gemm(q, ActivationMode.FP32, x, m);
                double[] exact = ReferenceKernels.matmulExact(q, x, m);
                for (int i = 0; i < y.length; i++) {
                    double bound = (k + 4) * U * abs[i] * 1.01 + 1e-30;
                    assertThat(Math.abs(y[i] - exact[i])).as("%s %s %s fp32 act m=%d at %d", isa, t, id, m, i)
                            .isLessThanOrEqualTo(bound);
                }
                checked++;
                if (config.format().isQuantized()) {
                    float[] yq = NativeKernels.gemm(q, ActivationMode.INT8, x, m);
                    double[] ref = ReferenceKernels.matmulQ8(q, x, m);
                    for (int i = 0; i < yq.length; i++) {
                        double bound = (k / 8.0 + 8) * U * (2 * abs[i] + 1e-3) * 4;
                        assertThat(Math.abs(yq[i] - ref[i])).as("%s %s %s int8 act m=%d at %d", isa, t, id, m, i)
                                .isLessThanOrEqualTo(bound);
                    }
                    // and the int8 path is still close to the fp32 one (activation rounding only)
                    assertThat(relRms(yq, exact)).as("%s %s %s int8 vs fp32 act", isa, t, id).isLessThan(0.05);
                }
            }
        }
        NativeKernels.setIsa(originalIsa);
        assertThat(checked).isGreaterThanOrEqualTo(2); // scalar at least, both batches
    }

    private static double relRms(float[] y, double[] truth) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < y.length; i++) {
            double d = y[i] - truth[i];
            num += d * d;
            den += truth[i] * truth[i];
        }
        return Math.sqrt(num / den);
    }

    /** Relative RMS error of the native fp32-activation output against fp64 math on the original weights. */
    private double errorVsOriginal(Tensor t, String id) {
        int m = 7;
        float[] w = t.read();
        QuantizedMatrix q = GroupQuantizer.quantize(ConfigId.parse(id), t.rows(), t.cols(), w, arena, t.name());
        float[] x = activations(t, m, "truth");
        float[] y = NativeKernels.gemm(q, ActivationMode.FP32, x, m);
        return relRms(y, ReferenceKernels.matmulFp64(w, t.rows(), t.cols(), x, m));
    }

    @Test
    void quantizationErrorOnRealWeightsIsBoundedAndOrdered() {
        StringBuilder report = new StringBuilder();
        for (Tensor t : List.of(WQ0, W1_0, W2_0)) {
            Map<String, Double> err = new LinkedHashMap<>();
            for (String id : CONFIGS) {
                double e = errorVsOriginal(t, id);
                err.put(id, e);
                report.append(String.format(java.util.Locale.ROOT, "%s %s %.3e%n", t, id, e));
            }
            for (String id : CONFIGS) {
                assertThat(err.get(id)).as("%s %s relative RMS error", t, id).isPositive().isLessThan(RMS_BOUND.get(id));
            }
            double int8 = err.get("int8");
            assertThat(err.get("fp16")).as("%s fp16 < int8", t).isLessThan(int8);
            assertThat(err.get("fp16")).as("%s fp16 < bf16", t).isLessThan(err.get("bf16"));
            for (String id : CONFIGS) {
                if (ConfigId.parse(id).format().isFourBit()) {
                    assertThat(int8).as("%s int8 < %s", t, id).isLessThan(err.get(id));
                    assertThat(err.get("bf16")).as("%s bf16 < %s", t, id).isLessThan(err.get(id));
                }
            }
            // smaller groups never hurt: int4-g32 <= int4-g64 <= per-row int4 (g128 clamped), fp4-g32 <= fp4-g64 <= fp4 per row
            assertThat(err.get("int4-g32")).as("%s int4 g32 vs g64", t).isLessThanOrEqualTo(err.get("int4-g64") * 1.05);
            assertThat(err.get("int4-g64")).as("%s int4 g64 vs per row", t).isLessThanOrEqualTo(err.get("int4-g128") * 1.05);
            assertThat(err.get("fp4-g32")).as("%s fp4 g32 vs g64", t).isLessThanOrEqualTo(err.get("fp4-g64") * 1.05);
            assertThat(err.get("fp4-g64")).as("%s fp4 g64 vs per row", t).isLessThanOrEqualTo(err.get("fp4-g256") * 1.05);
        }
        System.out.print(report);
    }
}
