package io.quantgate.junit;

import io.quantgate.gate.GateResult;
import io.quantgate.gate.Verdict;
import org.assertj.core.api.AbstractAssert;

import java.util.Locale;

/** AssertJ assertions on a {@link QuantResult}; the perplexity and throughput checks need those measurements. */
public final class QuantResultAssert extends AbstractAssert<QuantResultAssert, QuantResult> {

    QuantResultAssert(QuantResult actual) {
        super(actual, QuantResultAssert.class);
    }

    private ComparisonResultAssert ppl() {
        isNotNull();
        if (actual.perplexity().isEmpty()) {
            failWithMessage("%s has no perplexity measurement (the test needs @Perplexity)", actual.config());
        }
        return new ComparisonResultAssert(actual.perplexity().get());
    }

    private ThroughputResultAssert speed() {
        isNotNull();
        if (actual.throughput().isEmpty()) {
            failWithMessage("%s has no throughput measurement (the test needs @Throughput)", actual.config());
        }
        return new ThroughputResultAssert(actual.throughput().get());
    }

    public QuantResultAssert hasPerplexityDeltaBelowPercent(double percent) {
        ppl().hasPerplexityDeltaBelowPercent(percent);
        return this;
    }

    public QuantResultAssert hasPerplexityDeltaCiBelowPercent(double percent) {
        ppl().hasPerplexityDeltaCiBelowPercent(percent);
        return this;
    }

    public QuantResultAssert hasPerplexityDeltaBelow(double delta) {
        ppl().hasPerplexityDeltaBelow(delta);
        return this;
    }

    public QuantResultAssert hasKldBelow(double kld) {
        ppl().hasKldBelow(kld);
        return this;
    }

    public QuantResultAssert hasSameTopTokenAtLeast(double percent) {
        ppl().hasSameTopTokenAtLeast(percent);
        return this;
    }

    public QuantResultAssert hasSpeedupOverAtLeast(double speedup) {
        speed().hasSpeedupOverAtLeast(speedup);
        return this;
    }

    public QuantResultAssert hasTokensPerSecondAtLeast(double tokensPerSecond) {
        speed().hasTokensPerSecondAtLeast(tokensPerSecond);
        return this;
    }

    /** fp16 bytes of the linears over their packed bytes at least {@code ratio}. */
    public QuantResultAssert hasCompressionRatioAtLeast(double ratio) {
        isNotNull();
        if (!(actual.compressionRatio() >= ratio)) {
            failWithMessage("%s", String.format(Locale.ROOT, "Expected %s to compress the linears at least %.3fx but it "
                    + "compresses %.3fx", actual.config(), ratio, actual.compressionRatio()));
        }
        return this;
    }

    /** The combined verdict of the annotation gates is {@code expected}. */
    public QuantResultAssert hasVerdict(Verdict expected) {
        isNotNull();
        Verdict v = actual.verdict().orElse(null);
        if (v != expected) {
            StringBuilder gates = new StringBuilder();
            for (GateResult g : actual.gates()) {
                gates.append("\n  ").append(g.message());
            }
            failWithMessage("Expected verdict %s for %s but was %s:%s", expected, actual.config(), v, gates);
        }
        return this;
    }
}
