package io.quantgate.gate;

import io.quantgate.harness.Bootstrap;
import io.quantgate.results.model.ThroughputRow;
import io.quantgate.results.model.SampleStats;

import java.util.Locale;

/**
 * The speed gates of SPEC §5 on a {@link ThroughputRow}. Relative gates use the paired per-round ratios of
 * one interleaved run; the regression gate compares raw samples with a stored baseline (unpaired, so it
 * resamples both) and refuses to compare with a baseline from another machine.
 */
public final class SpeedGates {
    private SpeedGates() {
    }

    /**
     * Median over the rounds of time(reference) / time(config) (both do the same work), with its bootstrap
     * interval, at least {@code min}.
     */
    public static GateResult minSpeedup(ThroughputRow row, double min) {
        if (!row.hasReference()) {
            throw new IllegalArgumentException("row " + row.label() + " of " + row.subject() + " has no reference");
        }
        return IntervalGate.evaluate("minSpeedupOver", "speedup over " + row.referenceSubject() + " (" + row.label()
                        + ")", GateResult.Bound.AT_LEAST, min, row.speedup().median(), row.speedupCi().low(),
                row.speedupCi().high(), row.confidenceLevel(), row.referenceSubject() + " in the same " + row.rounds()
                        + " interleaved rounds",
                row.budgetCut() ? "time budget cut the run to " + row.rounds() + " rounds" : "");
    }

    /** Median rate with its bootstrap interval at least {@code min} (tokens/s at model level). */
    public static GateResult minRate(ThroughputRow row, double min) {
        return IntervalGate.evaluate("minTokensPerSecond", row.unit() + " (" + row.label() + ")",
                GateResult.Bound.AT_LEAST, min, row.rate().median(), row.rateCi().low(), row.rateCi().high(),
                row.confidenceLevel(), "an absolute limit (absolute rates drift with the machine's load)", "");
    }

    /**
     * What a stored baseline of this row holds: the paired per-round speedups over the reference measured in the same
     * rounds when the row has a reference other than itself — a ratio, which drift of the machine between runs
     * (±30 % on shared VMs) cancels out of — else the raw rates.
     */
    public static double[] baselineSamples(ThroughputRow row) {
        return ratioBaseline(row) ? row.samples().speedups() : row.samples().rates();
    }

    /** The unit of {@link #baselineSamples}: {@code speedup over <reference subject>} or the row's rate unit. */
    public static String baselineUnit(ThroughputRow row) {
        return ratioBaseline(row) ? "speedup over " + row.referenceSubject() : row.unit();
    }

    private static boolean ratioBaseline(ThroughputRow row) {
        return row.hasReference() && row.samples().speedups().length > 0
                && !row.subject().equals(row.referenceSubject());
    }

    /**
     * Regression against a stored baseline: {@code 100 · (1 − median(now) / median(stored))} percent slower, of the
     * speedups over the row's reference (or of the rates without one, see {@link #baselineSamples}), its interval
     * from a bootstrap of both samples (outliers beyond the row's sigma dropped on both sides), at
     * most {@code maxPercent}. The Mann–Whitney p-value of the two samples is added to the note.
     *
     * @param outlierSigma the sampling plan's outlier threshold, applied to both samples
     * @param lookup       what the baseline store found for this row
     * @param update       whether baselines are being rewritten in this run
     */
    public static GateResult regression(ThroughputRow row, double outlierSigma, BaselineStore.Lookup lookup,
                                        double maxPercent, boolean update) {
        String subject = "regression % of " + row.unit() + " (" + row.label() + ")";
        if (!(lookup instanceof BaselineStore.Lookup.Found found)) {
            String why = lookup.explanation();
            if (update) {
                return new GateResult("maxRegressionPercent", subject, GateResult.Bound.AT_MOST, maxPercent, Double.NaN,
                        Double.NaN, Double.NaN, row.confidenceLevel(), lookup.file().toString(), Verdict.PASS,
                        why + "; baseline recorded now (quantgate.baseline.update=true), nothing to compare with");
            }
            return new GateResult("maxRegressionPercent", subject, GateResult.Bound.AT_MOST, maxPercent, Double.NaN,
                    Double.NaN, Double.NaN, row.confidenceLevel(), lookup.file().toString(), Verdict.INCONCLUSIVE,
                    why + "; run with -Dquantgate.baseline.update=true on this machine to record one");
        }
        StoredBaseline b = found.baseline();
        String measure = baselineUnit(row);
        if (!measure.equals(b.unit())) {
            return new GateResult("maxRegressionPercent", subject, GateResult.Bound.AT_MOST, maxPercent, Double.NaN,
                    Double.NaN, Double.NaN, row.confidenceLevel(), found.file().toString(),
                    update ? Verdict.PASS : Verdict.INCONCLUSIVE, "the stored baseline is of " + b.unit()
                    + ", this row measures " + measure + (update ? "; baseline rewritten with this run's samples"
                    : "; run with -Dquantgate.baseline.update=true to record one of this measure"));
        }
        double[] now = SampleStats.dropOutliers(baselineSamples(row), outlierSigma);
        double[] then = SampleStats.dropOutliers(b.samples(), outlierSigma);
        double ratio = SampleStats.median(now) / SampleStats.median(then);
        double[] ci = Bootstrap.ratioOfMediansCi(now, then, row.confidenceLevel());
        double p = Bootstrap.mannWhitneyP(now, then);
        String compared = String.format(Locale.ROOT, "stored baseline %s (%d samples, median %.4g %s after dropping "
                + "outliers, recorded %s)", found.file(), b.samples().length, SampleStats.median(then), row.unit(),
                b.recordedAt());
        String note = String.format(Locale.ROOT, "Mann-Whitney p = %.3g%s", p,
                update ? "; baseline rewritten with this run's samples" : "");
        GateResult g = IntervalGate.evaluate("maxRegressionPercent", subject, GateResult.Bound.AT_MOST, maxPercent,
                100 * (1 - ratio), 100 * (1 - ci[1]), 100 * (1 - ci[0]), row.confidenceLevel(), compared, note);
        // rewriting the baseline is an explicit act: it records the new state instead of judging it
        return update && g.verdict() != Verdict.PASS ? g.withVerdict(Verdict.PASS, note + "; verdict would have been "
                + g.verdict()) : g;
    }
}
