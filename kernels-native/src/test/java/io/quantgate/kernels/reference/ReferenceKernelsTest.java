package io.quantgate.kernels.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.GroupQuantizer;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReferenceKernelsTest {
    private static final int N = 40;
    private static final int K = 300;     // 9 full 32-blocks + a short one of 12
    private static final int M = 3;

    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    private static float[] gaussian(int count, long seed, double sigma) {
        Random rnd = new Random(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return v;
    }

    private QuantizedMatrix weights(String id, float[] w) {
        return GroupQuantizer.quantize(ConfigId.parse(id), N, K, w, arena);
    }

    @Test
    void tinyHandComputedProduct() {
        // int8 per row, s = 0.125: W = [[1, -0.5], [0.25, 2]]
        QuantizedMatrix w = GroupQuantizer.quantize(ConfigId.parse("int8"), 2, 2,
                new float[] {15.875f, -0.5f, 0.25f, 15.875f}, arena);
        float[] x = {2f, 4f};
        assertThat(ReferenceKernels.matmulExact(w, x, 1)).containsExactly(15.875 * 2 - 2, 0.5 + 63.5);
        assertThat(ReferenceKernels.matmulF32(w, x, 1)).containsExactly(29.75f, 64f);
        assertThat(ReferenceKernels.matmulAbs(w, x, 1)).containsExactly(31.75 + 2, 64);
        // x block: absmax 4 → sx = 4/127, q = (64, 127); the int8 dot then rescales
        double sx = 4f / 127f;
        assertThat(ReferenceKernels.matmulQ8(w, x, 1)[0])
                .isEqualTo(0.125 * (sx * (127L * 64 + -4L * 127)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"int8", "int8-g64", "int4-g32", "int4-g128", "int4s-g64", "fp4-g32", "fp4-g128"})
    void q8IsExactWhenActivationsAreExactIntegers(String id) {
        // every 32-block holds a ±127 so sx = 1 and q_x = x exactly: only the weights' path remains,
        // which docs/formats.md makes exact for every format except nf4
        QuantizedMatrix w = weights(id, gaussian(N * K, 1, 0.02));
        Random rnd = new Random(2);
        float[] x = new float[M * K];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextInt(255) - 127;
            if (i % K % 32 == 0) {
                x[i] = rnd.nextBoolean() ? 127 : -127;
            }
        }
        double[] exact = ReferenceKernels.matmulExact(w, x, M);
        double[] q8 = ReferenceKernels.matmulQ8(w, x, M);
        double[] abs = ReferenceKernels.matmulAbs(w, x, M);
        for (int i = 0; i < exact.length; i++) {
            assertThat(Math.abs(q8[i] - exact[i])).as("%s y[%d]", id, i).isLessThanOrEqualTo(1e-13 * abs[i]);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"int8", "int4-g64", "int4s-g32", "fp4-g128", "nf4-g64", "nf4-g32"})
    void q8WithinTheActivationRoundingBound(String id) {
        float[] wTrue = gaussian(N * K, 3, 0.02);
        QuantizedMatrix w = weights(id, wTrue);
        float[] x = gaussian(M * K, 4, 1.0);
        QuantizedActivations qa = ActivationQuantizer.quantize(x, M, K);
        double[] exact = ReferenceKernels.matmulExact(w, x, M);
        double[] q8 = ReferenceKernels.matmulQ8(w, x, M);
        double[] abs = ReferenceKernels.matmulAbs(w, x, M);
        boolean nf4 = w.format() == WeightFormat.NF4;
        double errSq = 0;
        double refSq = 0;
        for (int mi = 0; mi < M; mi++) {
            for (int r = 0; r < N; r++) {
                float[] wr = w.dequantizeRow(r);
                // |q_x·sx − x| ≤ sx/2 per element; nf4 adds |T/127 − level| ≤ 0.5/127 of s per weight
                double bound = 1e-6 * abs[mi * N + r];
                for (int c = 0; c < K; c++) {
                    double sx = qa.scale(mi, c / 32);
                    bound += Math.abs(wr[c]) * sx / 2;
                    if (nf4) {
                        bound += w.scale(r, c / w.groupSize()) * (0.5 / 127) * (Math.abs(x[mi * K + c]) + sx / 2);
                    }
                }
                int i = mi * N + r;
                assertThat(Math.abs(q8[i] - exact[i])).as("%s y[%d][%d]", id, mi, r).isLessThanOrEqualTo(bound);
                errSq += (q8[i] - exact[i]) * (q8[i] - exact[i]);
                refSq += exact[i] * exact[i];
            }
        }
        // stated bound for gaussian data: the int8 path costs under 1% relative RMS error
        assertThat(Math.sqrt(errSq / refSq)).as(id).isLessThan(0.01);
    }

    @ParameterizedTest
    @ValueSource(strings = {"fp32", "fp16", "bf16", "int8", "int4-g128", "nf4-g64"})
    void f32WithinTheSummationBound(String id) {
        QuantizedMatrix w = weights(id, gaussian(N * K, 5, 0.02));
        float[] x = gaussian(M * K, 6, 1.0);
        double[] exact = ReferenceKernels.matmulExact(w, x, M);
        float[] f32 = ReferenceKernels.matmulF32(w, x, M);
        double[] abs = ReferenceKernels.matmulAbs(w, x, M);
        double u = Math.pow(2, -24);
        double gamma = (K + 1) * u / (1 - (K + 1) * u);   // K additions + one product rounding
        for (int i = 0; i < exact.length; i++) {
            assertThat(Math.abs(f32[i] - exact[i])).isLessThanOrEqualTo(gamma * abs[i]);
        }
    }

    @Test
    void fp64OnOriginalWeightsMatchesExactOnFp32() {
        float[] wTrue = gaussian(N * K, 7, 0.02);
        float[] x = gaussian(M * K, 8, 1.0);
        QuantizedMatrix w = weights("fp32", wTrue);
        assertThat(ReferenceKernels.matmulFp64(wTrue, N, K, x, M)).containsExactly(ReferenceKernels.matmulExact(w, x, M));
    }

    @Test
    void quantizationErrorAgainstFp64WithinHalfAStep() {
        float[] wTrue = gaussian(N * K, 9, 0.02);
        float[] x = gaussian(M * K, 10, 1.0);
        QuantizedMatrix w = weights("int8-g32", wTrue);
        double[] truth = ReferenceKernels.matmulFp64(wTrue, N, K, x, M);
        double[] exact = ReferenceKernels.matmulExact(w, x, M);
        for (int mi = 0; mi < M; mi++) {
            for (int r = 0; r < N; r++) {
                double bound = 0;
                for (int c = 0; c < K; c++) {
                    bound += w.scale(r, c / 32) * (0.5 + 1e-5) * Math.abs(x[mi * K + c]);
                }
                assertThat(Math.abs(exact[mi * N + r] - truth[mi * N + r])).isLessThanOrEqualTo(bound);
            }
        }
    }

    @Test
    void nonFiniteActivationsPoisonOnlyTheirRows() {
        QuantizedMatrix w = weights("int4s-g64", gaussian(N * K, 11, 0.02));
        float[] x = gaussian(M * K, 12, 1.0);
        x[K + 299] = Float.NaN;      // row 1, in the short last block
        double[] q8 = ReferenceKernels.matmulQ8(w, x, M);
        float[] f32 = ReferenceKernels.matmulF32(w, x, M);
        for (int r = 0; r < N; r++) {
            assertThat(q8[N + r]).isNaN();
            assertThat(f32[N + r]).isNaN();
            assertThat(q8[r]).isFinite();
            assertThat(q8[2 * N + r]).isFinite();
        }
    }

    @Test
    void denseWeightsHaveNoInt8Path() {
        QuantizedMatrix w = weights("bf16", gaussian(N * K, 13, 0.02));
        assertThatThrownBy(() -> ReferenceKernels.matmulQ8(w, new float[K], 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("int8 activations need a quantized weight format");
    }

    @Test
    void activationShapeChecked() {
        QuantizedMatrix w = weights("int8", gaussian(N * K, 14, 0.02));
        assertThatThrownBy(() -> ReferenceKernels.matmulExact(w, new float[K + 1], 1))
                .hasMessage("301 activations given for 1 rows of K=300 (expected 300)");
    }
}
