package io.quantgate.gate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.quantgate.gate.GateResult.Bound.AT_LEAST;
import static io.quantgate.gate.GateResult.Bound.AT_MOST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The three-way decision of SPEC §5, worked by hand on intervals around a threshold of 5. */
class IntervalGateTest {

    @Test
    void anUpperLimitPassesWhenTheWholeIntervalIsBelowFailsWhenItIsAboveElseInconclusive() {
        assertThat(IntervalGate.decide(AT_MOST, 5, 1, 4.99)).isEqualTo(Verdict.PASS);
        assertThat(IntervalGate.decide(AT_MOST, 5, 1, 5)).as("touching the limit is within it").isEqualTo(Verdict.PASS);
        assertThat(IntervalGate.decide(AT_MOST, 5, 5.01, 9)).isEqualTo(Verdict.FAIL);
        assertThat(IntervalGate.decide(AT_MOST, 5, 5, 9)).as("low = limit may still be within").isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(IntervalGate.decide(AT_MOST, 5, 4, 6)).isEqualTo(Verdict.INCONCLUSIVE);
    }

    @Test
    void aLowerLimitIsTheMirrorImage() {
        assertThat(IntervalGate.decide(AT_LEAST, 5, 5, 9)).isEqualTo(Verdict.PASS);
        assertThat(IntervalGate.decide(AT_LEAST, 5, 1, 4.99)).isEqualTo(Verdict.FAIL);
        assertThat(IntervalGate.decide(AT_LEAST, 5, 1, 5)).isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(IntervalGate.decide(AT_LEAST, 5, 4, 6)).isEqualTo(Verdict.INCONCLUSIVE);
    }

    @Test
    void unboundedIntervalsCanFailButNeverPass() {
        double inf = Double.POSITIVE_INFINITY;
        assertThat(IntervalGate.decide(AT_MOST, 5, -inf, inf)).isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(IntervalGate.decide(AT_MOST, 5, 6, inf)).isEqualTo(Verdict.FAIL);
        assertThat(IntervalGate.decide(AT_LEAST, 5, -inf, 4)).isEqualTo(Verdict.FAIL);
        assertThat(IntervalGate.decide(AT_MOST, 5, Double.NaN, 1)).isEqualTo(Verdict.INCONCLUSIVE);
        assertThatThrownBy(() -> IntervalGate.decide(AT_MOST, 5, 3, 2)).hasMessageContaining("low > high");
    }

    @Test
    void verdictsCombineFailFirstThenInconclusive() {
        GateResult pass = IntervalGate.evaluate("a", "x", AT_MOST, 5, 1, 0, 2, 0.95, "", "");
        GateResult inc = IntervalGate.evaluate("b", "x", AT_MOST, 5, 5, 4, 6, 0.95, "", "");
        GateResult fail = IntervalGate.evaluate("c", "x", AT_MOST, 5, 8, 7, 9, 0.95, "", "");
        assertThat(Verdict.combine(List.of(pass, inc, fail))).isEqualTo(Verdict.FAIL);
        assertThat(Verdict.combine(List.of(pass, inc))).isEqualTo(Verdict.INCONCLUSIVE);
        assertThat(Verdict.combine(List.of(pass))).isEqualTo(Verdict.PASS);
        assertThat(Verdict.combine(List.of())).isEqualTo(Verdict.PASS);
    }

    @Test
    void theMessageStatesValueIntervalLimitAndComparison() {
        GateResult g = IntervalGate.evaluate("maxDeltaPercent", "PPL delta %", AT_MOST, 1.0, 2.5, 1.75, 3.25, 0.95,
                "fp32 on the same 8 chunks", "");
        assertThat(g.message()).isEqualTo("maxDeltaPercent FAIL: PPL delta % = 2.500, 95% CI [1.750, 3.250], "
                + "limit <= 1.000, compared with fp32 on the same 8 chunks");
        GateResult open = IntervalGate.evaluate("maxKld", "mean KLD", AT_MOST, 0.1, 0.05, Double.NEGATIVE_INFINITY,
                Double.POSITIVE_INFINITY, 0.95, "", "one chunk");
        assertThat(open.message()).isEqualTo("maxKld INCONCLUSIVE: mean KLD = 0.05000, no confidence interval (too few "
                + "samples), limit <= 0.10000 (one chunk)");
    }

    @Test
    void thresholdsOutOfRangeAreRejectedWithTheirName() {
        assertThatThrownBy(() -> new QualityThresholds(Double.NaN, -0.5, Double.NaN, Double.NaN))
                .hasMessageContaining("maxDeltaPercent must be >= 0");
        assertThatThrownBy(() -> new QualityThresholds(Double.NaN, Double.NaN, Double.POSITIVE_INFINITY, Double.NaN))
                .hasMessageContaining("maxKld must be >= 0 and finite");
        assertThatThrownBy(() -> new QualityThresholds(Double.NaN, Double.NaN, Double.NaN, 100.5))
                .hasMessageContaining("minSameTop must be a percentage in [0, 100]");
        assertThat(QualityThresholds.none().any()).isFalse();
    }
}
