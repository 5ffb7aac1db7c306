package io.quantgate.junit;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.gate.QualityGates;
import io.quantgate.harness.Harness;
import io.quantgate.harness.MemorySizing;
import io.quantgate.harness.Sampling;
import io.quantgate.harness.Subject;
import io.quantgate.harness.ThroughputPlan;
import io.quantgate.harness.Workload;
import io.quantgate.results.model.ThroughputRow;
import io.quantgate.gate.QualityGatesTest;
import io.quantgate.gate.QualityThresholds;
import io.quantgate.gate.Verdict;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The AssertJ assertions pass on the right side of their limit and fail with the figures on the other. */
class QuantAssertionsTest {

    static QuantResult result(ComparisonResult c, ThroughputResult t) {
        var gates = c == null ? List.<io.quantgate.gate.GateResult>of()
                : QualityGates.evaluate(c, new QualityThresholds(Double.NaN, 1e6, Double.NaN, Double.NaN), "base");
        return new QuantResult("T.t", "fp4-g32", "fp32", "native", "native", "QuantGate native fp4-g32", "fp32",
                new QuantResult.Inputs("m", "00", "llama", null, null, null, null, 0), 3.5, 100, c, 0, t, gates,
                Instant.now(), Instant.now());
    }

    @Test
    void perplexityAssertionsCompareThePointEstimateAndPrintTheInterval() {
        ComparisonResult c = QualityGatesTest.comparison();
        QuantResult r = result(c, null);
        double d = c.deltaPercent();
        assertThatCode(() -> QuantAssertions.assertThat(r).hasPerplexityDeltaBelowPercent(d + 1e-9)
                .hasKldBelow(c.meanKld() + 1e-9).hasSameTopTokenAtLeast(c.sameTopPercent())
                .hasPerplexityDeltaCiBelowPercent(c.deltaPercentCi().high() + 1e-9).hasCompressionRatioAtLeast(3.5)
                .hasVerdict(Verdict.PASS)).doesNotThrowAnyException();
        assertThatThrownBy(() -> QuantAssertions.assertThat(r).hasPerplexityDeltaBelowPercent(d - 1e-9))
                .isInstanceOf(AssertionError.class).hasMessageContaining("Expected PPL delta % to be below")
                .hasMessageContaining("95% CI [").hasMessageContaining("8 chunks");
        assertThatThrownBy(() -> QuantAssertions.assertThat(c).hasPerplexityDeltaCiBelowPercent(d))
                .hasMessageContaining("upper bound of the PPL delta % interval");
        assertThatThrownBy(() -> QuantAssertions.assertThat(c).hasKldBelow(c.meanKld()))
                .hasMessageContaining("Expected mean KLD to be below");
        assertThatThrownBy(() -> QuantAssertions.assertThat(c).hasSameTopTokenAtLeast(c.sameTopPercent() + 1e-9))
                .hasMessageContaining("same top token %");
        assertThatThrownBy(() -> QuantAssertions.assertThat(r).hasCompressionRatioAtLeast(4))
                .hasMessageContaining("compresses 3.500x");
        assertThatThrownBy(() -> QuantAssertions.assertThat(r).hasVerdict(Verdict.FAIL))
                .hasMessageContaining("Expected verdict FAIL for fp4-g32 but was PASS")
                .hasMessageContaining("maxDeltaPercent PASS");
        assertThatThrownBy(() -> QuantAssertions.assertThat(r).hasSpeedupOverAtLeast(1))
                .hasMessageContaining("has no throughput measurement (the test needs @Throughput)");
    }

    @Test
    void throughputAssertionsCheckEveryRow() {
        ThroughputRow row;
        Sampling plan = new Sampling(1, 4, 10, 2);
        try (Harness h = new Harness(new MemorySizing(1 << 20, 8 << 20), null)) {
            row = h.throughput(ThroughputPlan.against(new Workload.Kernel(64, 128, 1),
                    Subject.kernel("native", ConfigId.parse("fp16"), ActivationMode.INT8),
                    List.of(Subject.kernel("native", ConfigId.parse("int8"), ActivationMode.INT8)), plan), null,
                    Harness.RemeasurePolicy.NEVER).rows().getFirst();
        }
        ThroughputResult t = new ThroughputResult(Throughput.Level.KERNEL, "int8", "fp16", "int8",
                plan, List.of(row), 0);
        double s = row.medianSpeedup();
        assertThatCode(() -> QuantAssertions.assertThat(t).hasSpeedupOverAtLeast(s).hasAtLeastRounds(4))
                .doesNotThrowAnyException();
        assertThatThrownBy(() -> QuantAssertions.assertThat(t).hasSpeedupOverAtLeast(s * 1.01))
                .hasMessageContaining("Expected the speedup of int8 (int8 activations) on native over fp16 (fp32 activations) "
                        + "on native at 64x128 M=1 to be at least")
                .hasMessageContaining("median of 4 paired rounds");
        assertThatThrownBy(() -> QuantAssertions.assertThat(t).hasTokensPerSecondAtLeast(1))
                .hasMessageContaining("measures GB/s, not tokens/s");
        assertThatThrownBy(() -> QuantAssertions.assertThat(t).hasAtLeastRounds(5))
                .hasMessageContaining("at least 5 measured rounds for 64x128 M=1 but there were 4");
        assertThatThrownBy(t::tokensPerSecond).hasMessageContaining("KERNEL level measures weight GB/s");
        assertThatThrownBy(() -> t.row("tg128")).hasMessageContaining("no row 'tg128' (rows: 64x128 M=1)");
    }
}
