package io.quantgate.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.GroupQuantizer;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ImportanceQuantizerTest {
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    private static double weightedError(float[] w, float[] q, int n, int k, int g, double[] imp, int r, int gi) {
        double e = 0;
        for (int c = gi * g; c < Math.min(k, gi * g + g); c++) {
            double d = w[r * k + c] - q[r * k + c];
            e += imp[c] * d * d;
        }
        return e;
    }

    /**
     * The round-to-nearest scale is among the candidates, so no group's weighted error is worse than round to
     * nearest's; with uneven importance the total is clearly better.
     */
    @ParameterizedTest
    @ValueSource(strings = {"int4-g64", "int4s-g32", "fp4-g128", "nf4-g64", "int8-g32", "int4-g256"})
    void neverWorseThanRoundToNearestPerGroup(String id) {
        int n = 16;
        int k = 170;
        float[] w = GptqTest.gaussian(n * k, 11, 0.05);
        Random rnd = new Random(12);
        double[] imp = new double[k];
        for (int i = 0; i < k; i++) {
            imp[i] = Math.exp(2 * rnd.nextGaussian()); // heavy-tailed, as mean squared activations are
        }
        ConfigId cid = ConfigId.parse(id);
        float[] rtn = GroupQuantizer.quantize(cid, n, k, w, arena).dequantize();
        float[] iq = ImportanceQuantizer.quantize(cid, n, k, w, imp, arena, "t").dequantize();
        int g = cid.effectiveGroup(k);
        double totalRtn = 0;
        double totalIq = 0;
        for (int r = 0; r < n; r++) {
            for (int gi = 0; gi < (k + g - 1) / g; gi++) {
                double a = weightedError(w, rtn, n, k, g, imp, r, gi);
                double b = weightedError(w, iq, n, k, g, imp, r, gi);
                assertThat(b).as("row %d group %d", r, gi).isLessThanOrEqualTo(a);
                totalRtn += a;
                totalIq += b;
            }
        }
        assertThat(totalIq).isLessThan(0.95 * totalRtn);
    }

    /** All-zero importance (a column never reached) falls back to plain squared error, still never worse. */
    @ParameterizedTest
    @ValueSource(strings = {"int4-g32", "fp4-g32"})
    void zeroImportanceIsPlainSquaredError(String id) {
        int n = 4;
        int k = 64;
        float[] w = GptqTest.gaussian(n * k, 13, 0.05);
        double[] ones = new double[k];
        java.util.Arrays.fill(ones, 1);
        ConfigId cid = ConfigId.parse(id);
        float[] rtn = GroupQuantizer.quantize(cid, n, k, w, arena).dequantize();
        float[] iq = ImportanceQuantizer.quantize(cid, n, k, w, new double[k], arena, "t").dequantize();
        double a = 0;
        double b = 0;
        for (int r = 0; r < n; r++) {
            for (int gi = 0; gi < 2; gi++) {
                a += weightedError(w, rtn, n, k, 32, ones, r, gi);
                b += weightedError(w, iq, n, k, 32, ones, r, gi);
            }
        }
        assertThat(b).isLessThanOrEqualTo(a);
    }
}
