package io.quantgate.gate;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.evaluation.PerplexityComparison;
import io.quantgate.evaluation.PerplexityOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each quality gate reads the paired interval of its own quantity: with limits placed just outside either
 * end of that interval (taken from the comparison), the verdicts must follow.
 */
public class QualityGatesTest {

    /** Logits = a fixed random table row of the current token, scaled; a second scale is the "quantized" model. */
    static LogitsModel table(double scale, double noise) {
        int vocab = 16;
        SplittableRandom r = new SplittableRandom(3);
        float[][] w = new float[vocab][vocab];
        float[][] e = new float[vocab][vocab];
        for (int a = 0; a < vocab; a++) {
            for (int b = 0; b < vocab; b++) {
                w[a][b] = (float) r.nextGaussian();
                e[a][b] = (float) r.nextGaussian();
            }
        }
        return new LogitsModel() {
            @Override
            public float[][] logits(int[] tokens) {
                float[][] out = new float[tokens.length][vocab];
                for (int i = 0; i < tokens.length; i++) {
                    for (int v = 0; v < vocab; v++) {
                        out[i][v] = (float) (scale * w[tokens[i]][v] + noise * e[tokens[i]][v]);
                    }
                }
                return out;
            }

            @Override
            public int vocabSize() {
                return vocab;
            }
        };
    }

    public static ComparisonResult comparison() {
        SplittableRandom r = new SplittableRandom(5);
        int[] tokens = new int[64 * 8];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(16);
        }
        return PerplexityComparison.compare(table(1, 0.7), table(1, 0), tokens, PerplexityOptions.chunked(64));
    }

    @Test
    void eachGateDecidesOnItsOwnInterval() {
        ComparisonResult c = comparison();
        assertThat(c.chunks()).isEqualTo(8);
        double eps = 1e-9;
        List<GateResult> pass = QualityGates.evaluate(c, new QualityThresholds(c.deltaCi().high() + eps,
                c.deltaPercentCi().high() + eps, c.kldCi().high() + eps, c.sameTopCi().low() - eps), "base");
        assertThat(pass).extracting(GateResult::name).containsExactly("maxDelta", "maxDeltaPercent", "maxKld", "minSameTop");
        assertThat(pass).allMatch(g -> g.verdict() == Verdict.PASS);
        assertThat(pass.get(1).estimate()).isEqualTo(c.deltaPercent());
        assertThat(pass.get(1).low()).isEqualTo(c.deltaPercentCi().low());

        List<GateResult> fail = QualityGates.evaluate(c, new QualityThresholds(Math.max(0, c.deltaCi().low() - eps),
                Math.max(0, c.deltaPercentCi().low() - eps), c.kldCi().low() - eps, c.sameTopCi().high() + eps), "base");
        assertThat(c.deltaCi().low()).as("the noisy model is clearly worse").isPositive();
        assertThat(fail).allMatch(g -> g.verdict() == Verdict.FAIL);

        List<GateResult> inconclusive = QualityGates.evaluate(c, new QualityThresholds(c.delta(), c.deltaPercent(),
                c.meanKld(), c.sameTopPercent()), "base");
        assertThat(inconclusive).allMatch(g -> g.verdict() == Verdict.INCONCLUSIVE);
    }

    @Test
    void gatesThatAreOffAreNotEvaluated() {
        assertThat(QualityGates.evaluate(comparison(), QualityThresholds.none(), "base")).isEmpty();
    }
}
