package io.quantgate.junit;

import io.quantgate.evaluation.ComparisonResult;

/**
 * AssertJ entry points for QuantGate results, for checks beyond the annotation gates:
 *
 * <pre>{@code
 * @QuantTest
 * @QuantConfig({"fp4-g32", "int4-g128"})
 * @Perplexity(chunks = 16)
 * void quality(QuantResult r) {
 *     QuantAssertions.assertThat(r)
 *             .hasPerplexityDeltaBelowPercent(5.0)
 *             .hasKldBelow(0.05)
 *             .hasSameTopTokenAtLeast(90)
 *             .hasCompressionRatioAtLeast(3.5);
 * }
 * }</pre>
 *
 * These assertions check point estimates (and say so, with the interval, in their failure messages); the
 * annotation gates decide on confidence intervals and can be inconclusive. Use the {@code ...CiBelow...}
 * variants to demand that the whole interval is within a limit.
 */
public final class QuantAssertions {
    private QuantAssertions() {
    }

    public static QuantResultAssert assertThat(QuantResult actual) {
        return new QuantResultAssert(actual);
    }

    public static ComparisonResultAssert assertThat(ComparisonResult actual) {
        return new ComparisonResultAssert(actual);
    }

    public static ThroughputResultAssert assertThat(ThroughputResult actual) {
        return new ThroughputResultAssert(actual);
    }
}
