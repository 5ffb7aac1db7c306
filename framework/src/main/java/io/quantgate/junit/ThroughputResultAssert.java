package io.quantgate.junit;

import io.quantgate.results.model.ThroughputRow;
import org.assertj.core.api.AbstractAssert;

import java.util.Locale;

/** AssertJ assertions on a {@link ThroughputResult}; row checks apply to every row. */
public final class ThroughputResultAssert extends AbstractAssert<ThroughputResultAssert, ThroughputResult> {

    ThroughputResultAssert(ThroughputResult actual) {
        super(actual, ThroughputResultAssert.class);
    }

    /** Every row's median paired speedup over its reference at least {@code speedup}. */
    public ThroughputResultAssert hasSpeedupOverAtLeast(double speedup) {
        isNotNull();
        for (ThroughputRow r : actual.rows()) {
            if (!(r.medianSpeedup() >= speedup)) {
                failWithMessage("%s", String.format(Locale.ROOT, "Expected the speedup of %s over %s at %s to be at least %.4g "
                                + "but the median of %d paired rounds was %.4g (%.0f%% CI [%.4g, %.4g])", r.subject(),
                        r.referenceSubject(), r.label(), speedup, r.rounds(), r.medianSpeedup(),
                        100 * r.confidenceLevel(), r.speedupCi().low(), r.speedupCi().high()));
            }
        }
        return this;
    }

    /** Every row's median tokens/s at least {@code tokensPerSecond} (PREFILL/DECODE). */
    public ThroughputResultAssert hasTokensPerSecondAtLeast(double tokensPerSecond) {
        isNotNull();
        for (ThroughputRow r : actual.rows()) {
            if (!"tokens/s".equals(r.unit())) {
                failWithMessage("Row %s measures %s, not tokens/s", r.label(), r.unit());
            }
            if (!(r.medianRate() >= tokensPerSecond)) {
                failWithMessage("%s", String.format(Locale.ROOT, "Expected %s %s to reach %.4g tokens/s but the median of %d "
                                + "rounds was %.4g (%.0f%% CI [%.4g, %.4g])", r.subject(), r.label(), tokensPerSecond,
                        r.rounds(), r.medianRate(), 100 * r.confidenceLevel(), r.rateCi().low(), r.rateCi().high()));
            }
        }
        return this;
    }

    /** Every row's median fraction of the probe's memory bandwidth at least {@code fraction}. */
    public ThroughputResultAssert hasFractionOfBandwidthAtLeast(double fraction) {
        isNotNull();
        for (ThroughputRow r : actual.rows()) {
            if (!(r.fractionOfBandwidth().median() >= fraction)) {
                failWithMessage("%s", String.format(Locale.ROOT, "Expected %s %s to reach %.3f of the measured memory bandwidth "
                                + "but reached %.3f (probe %.2f GB/s)", r.subject(), r.label(), fraction,
                        r.fractionOfBandwidth().median(), r.probeGbs().median()));
            }
        }
        return this;
    }

    /** At least {@code rounds} measured rounds per row. */
    public ThroughputResultAssert hasAtLeastRounds(int rounds) {
        isNotNull();
        for (ThroughputRow r : actual.rows()) {
            if (r.rounds() < rounds) {
                failWithMessage("Expected at least %d measured rounds for %s but there were %d", rounds, r.label(),
                        r.rounds());
            }
        }
        return this;
    }
}
