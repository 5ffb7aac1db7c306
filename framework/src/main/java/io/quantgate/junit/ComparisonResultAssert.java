package io.quantgate.junit;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.ConfidenceInterval;
import org.assertj.core.api.AbstractAssert;

import java.util.Locale;

/** AssertJ assertions on a perplexity {@link ComparisonResult} (quantized model vs baseline). */
public final class ComparisonResultAssert extends AbstractAssert<ComparisonResultAssert, ComparisonResult> {

    ComparisonResultAssert(ComparisonResult actual) {
        super(actual, ComparisonResultAssert.class);
    }

    /** PPL delta % (point estimate) strictly below {@code percent}. */
    public ComparisonResultAssert hasPerplexityDeltaBelowPercent(double percent) {
        isNotNull();
        if (!(actual.deltaPercent() < percent)) {
            failWithMessage("%s", describe("PPL delta %", actual.deltaPercent(), actual.deltaPercentCi(), "below",
                    percent));
        }
        return this;
    }

    /** The whole confidence interval of the PPL delta % below {@code percent}. */
    public ComparisonResultAssert hasPerplexityDeltaCiBelowPercent(double percent) {
        isNotNull();
        if (!(actual.deltaPercentCi().high() < percent)) {
            failWithMessage("%s", describe("upper bound of the PPL delta % interval", actual.deltaPercentCi().high(),
                    actual.deltaPercentCi(), "below", percent));
        }
        return this;
    }

    /** PPL(quant) − PPL(base) (point estimate) strictly below {@code delta}. */
    public ComparisonResultAssert hasPerplexityDeltaBelow(double delta) {
        isNotNull();
        if (!(actual.delta() < delta)) {
            failWithMessage("%s", describe("PPL delta", actual.delta(), actual.deltaCi(), "below", delta));
        }
        return this;
    }

    /** Mean KL(base ‖ quant) (point estimate) strictly below {@code kld}. */
    public ComparisonResultAssert hasKldBelow(double kld) {
        isNotNull();
        if (!(actual.meanKld() < kld)) {
            failWithMessage("%s", describe("mean KLD", actual.meanKld(), actual.kldCi(), "below", kld));
        }
        return this;
    }

    /** Same-top-token % (point estimate) at least {@code percent}. */
    public ComparisonResultAssert hasSameTopTokenAtLeast(double percent) {
        isNotNull();
        if (!(actual.sameTopPercent() >= percent)) {
            failWithMessage("%s", describe("same top token %", actual.sameTopPercent(), actual.sameTopCi(),
                    "at least", percent));
        }
        return this;
    }

    /** At least {@code chunks} chunks (windows) were evaluated. */
    public ComparisonResultAssert hasAtLeastChunks(int chunks) {
        isNotNull();
        if (actual.chunks() < chunks) {
            failWithMessage("Expected at least %d chunks to be evaluated but %d were", chunks, actual.chunks());
        }
        return this;
    }

    private String describe(String what, double value, ConfidenceInterval ci, String relation, double limit) {
        return String.format(Locale.ROOT, "Expected %s to be %s %s but was %s (%.0f%% CI [%s, %s], PPL base %.4f, "
                        + "quant %.4f, %d chunks)", what, relation, fmt(limit), fmt(value), ci.level() * 100, fmt(ci.low()),
                fmt(ci.high()), actual.pplBase(), actual.pplQuant(), actual.chunks());
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6g", v);
    }
}
