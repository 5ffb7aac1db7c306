package io.quantgate.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.GroupQuantizer;
import io.quantgate.kernels.format.QuantizedMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class GptqTest {
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    static float[] gaussian(int count, long seed, double sigma) {
        Random rnd = new Random(seed);
        float[] w = new float[count];
        for (int i = 0; i < count; i++) {
            w[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return w;
    }

    /** Inputs with correlated columns and uneven scales, as real activations have: x = z·A. */
    static double[][] correlatedInputs(int rows, int k, long seed) {
        Random rnd = new Random(seed);
        double[][] a = new double[k][k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                a[i][j] = rnd.nextGaussian() * (i == j ? 1.0 : 0.3);
            }
        }
        double[][] x = new double[rows][k];
        for (int r = 0; r < rows; r++) {
            double[] z = new double[k];
            for (int i = 0; i < k; i++) {
                z[i] = rnd.nextGaussian() * (1 + 4 * (i % 7 == 0 ? 1 : 0)); // a few loud channels
            }
            for (int j = 0; j < k; j++) {
                double s = 0;
                for (int i = 0; i < k; i++) {
                    s += z[i] * a[i][j];
                }
                x[r][j] = s;
            }
        }
        return x;
    }

    /** {@code Σ_rows ‖(W − Q)·x‖²}: the output error GPTQ minimizes. */
    static double outputError(float[] w, float[] q, int n, int k, double[][] x) {
        double e = 0;
        for (double[] row : x) {
            for (int r = 0; r < n; r++) {
                double s = 0;
                for (int c = 0; c < k; c++) {
                    s += (w[r * k + c] - q[r * k + c]) * row[c];
                }
                e += s * s;
            }
        }
        return e;
    }

    static double[] identity(int k) {
        double[] h = new double[k * k];
        for (int i = 0; i < k; i++) {
            h[i * k + i] = 1;
        }
        return h;
    }

    /**
     * With an identity Hessian no error is fed forward, and every group's scale comes from the original weights: GPTQ is
     * then exactly round to nearest, code for code. Checks that both share one definition of every format.
     */
    @ParameterizedTest
    @ValueSource(strings = {"int8", "int8-g32", "int4-g64", "int4s-g32", "fp4-g128", "nf4-g64", "int4-g256"})
    void identityHessianIsRoundToNearest(String id) {
        int n = 9;
        int k = 203;
        float[] w = gaussian(n * k, 1, 0.04);
        QuantizedMatrix rtn = GroupQuantizer.quantize(ConfigId.parse(id), n, k, w, arena);
        QuantizedMatrix g = Gptq.quantize(ConfigId.parse(id), n, k, w, identity(k), false, Gptq.DEFAULT_DAMPING, arena,
                "t");
        assertThat(g.codes().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(rtn.codes().toArray(ValueLayout.JAVA_BYTE));
        assertThat(g.dequantize()).isEqualTo(rtn.dequantize());
    }

    /** On correlated inputs GPTQ's output error is well below round to nearest's, for every format, with act order too. */
    @ParameterizedTest
    @ValueSource(strings = {"int4-g64", "int4s-g32", "fp4-g128", "nf4-g64", "int8-g128", "fp4-g32"})
    void lowersTheOutputErrorOnCorrelatedInputs(String id) {
        int n = 24;
        int k = 150; // not a multiple of the group
        float[] w = gaussian(n * k, 2, 0.05);
        double[][] x = correlatedInputs(600, k, 3);
        Gram gram = new Gram(k);
        gram.add(x);
        ConfigId cid = ConfigId.parse(id);
        double rtn = outputError(w, GroupQuantizer.quantize(cid, n, k, w, arena).dequantize(), n, k, x);
        double gptq = outputError(w, Gptq.quantize(cid, n, k, w, gram.hessian(), false, Gptq.DEFAULT_DAMPING, arena,
                "t").dequantize(), n, k, x);
        double act = outputError(w, Gptq.quantize(cid, n, k, w, gram.hessian(), true, Gptq.DEFAULT_DAMPING, arena,
                "t").dequantize(), n, k, x);
        assertThat(gptq).as("GPTQ vs RTN output error").isLessThan(0.8 * rtn);
        assertThat(act).as("GPTQ with act order vs RTN output error").isLessThan(0.8 * rtn);
    }

    @Test
    void upperFactorIsTheCholeskyOfTheDampedInverse() {
        int k = 37;
        Gram gram = new Gram(k);
        gram.add(correlatedInputs(200, k, 5));
        double[] h = gram.hessian();
        double[] u = Gptq.inverseCholeskyUpper(h, k, 0.01, "t");
        double mean = 0;
        for (int i = 0; i < k; i++) {
            mean += h[i * k + i] / k;
        }
        // (UᵀU)·(H + λ·mean·I) = I
        double worst = 0;
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                double s = 0;
                for (int c = 0; c < k; c++) {
                    double utu = 0;
                    for (int p = 0; p <= Math.min(a, c); p++) {
                        utu += u[p * k + a] * u[p * k + c];
                    }
                    s += utu * (h[c * k + b] + (c == b ? 0.01 * mean : 0));
                }
                worst = Math.max(worst, Math.abs(s - (a == b ? 1 : 0)));
                if (a > b) {
                    assertThat(u[a * k + b]).as("below the diagonal").isZero();
                }
            }
        }
        assertThat(worst).isLessThan(1e-9);
    }

    /** A column no input ever reached carries no information: GPTQ zeroes its weight (as the reference does). */
    @Test
    void deadColumnsBecomeZero() {
        int n = 5;
        int k = 64;
        float[] w = gaussian(n * k, 7, 0.05);
        double[][] x = correlatedInputs(100, k, 8);
        for (double[] row : x) {
            row[10] = 0;
        }
        Gram gram = new Gram(k);
        gram.add(x);
        float[] q = Gptq.quantize(ConfigId.parse("int4-g32"), n, k, w, gram.hessian(), false, 0.01, arena, "t")
                .dequantize();
        for (int r = 0; r < n; r++) {
            assertThat(q[r * k + 10]).isZero();
        }
    }

    @Test
    void badInputsAreNamed() {
        assertThatThrownBy(() -> Gptq.quantize(ConfigId.parse("fp16"), 2, 4, new float[8], identity(4), false, 0.01,
                arena, "layers.0.attn.q")).hasMessageContaining("tensor 'layers.0.attn.q': GPTQ needs a quantized format");
        assertThatThrownBy(() -> Gptq.quantize(ConfigId.parse("int4-g32"), 2, 4, new float[8], identity(3), false,
                0.01, arena, "t")).hasMessageContaining("a Hessian of 9 values for shape 2x4");
        double[] nan = identity(4);
        nan[5] = Double.NaN;
        assertThatThrownBy(() -> Gptq.quantize(ConfigId.parse("int4-g32"), 2, 4, new float[8], nan, false, 0.01,
                arena, "t")).hasMessageContaining("the calibration Hessian holds NaN");
        double[] indefinite = identity(2);
        indefinite[1] = 50;
        indefinite[2] = 50;
        assertThatThrownBy(() -> Gptq.inverseCholeskyUpper(indefinite, 2, 0.01, "t"))
                .hasMessageContaining("tensor 't': the calibration Hessian is not positive definite");
    }
}
