package io.quantgate.gate;

import io.quantgate.evaluation.Statistics;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.ConfidenceInterval;

import java.util.ArrayList;
import java.util.List;

/**
 * The quality gates of SPEC §5 on a paired {@link ComparisonResult}: each gate is decided by
 * {@link IntervalGate} on the chunk-clustered paired interval of its quantity (see
 * {@link io.quantgate.evaluation.PerplexityComparison} for how those intervals are computed).
 */
public final class QualityGates {
    private QualityGates() {
    }

    /**
     * @param comparedWith what the quantized model was compared with, for the messages (e.g.
     *                     {@code "fp32 on the same 4 chunks of wiki.test.raw, ctx 512"})
     * @return one result per gate that is on, in the order maxDelta, maxDeltaPercent, maxKld, minSameTop
     */
    public static List<GateResult> evaluate(ComparisonResult c, QualityThresholds t, String comparedWith) {
        return evaluate(c, t, comparedWith, c.confidenceLevel());
    }

    /**
     * The gates decided on intervals at {@code gateLevel} (t quantile with chunks − 1 degrees of freedom around each
     * quantity's chunk-clustered standard error), which may be stricter than the level the comparison reports: the
     * JUnit extension decides quality gates at 0.995 (docs/reliability.md measured why).
     */
    public static List<GateResult> evaluate(ComparisonResult c, QualityThresholds t, String comparedWith,
                                            double gateLevel) {
        if (gateLevel != c.confidenceLevel()) {
            c = atLevel(c, gateLevel);
        }
        List<GateResult> out = new ArrayList<>();
        if (!Double.isNaN(t.maxDelta())) {
            out.add(gate("maxDelta", "PPL delta (quant - base)", GateResult.Bound.AT_MOST, t.maxDelta(), c.delta(),
                    c.deltaCi(), comparedWith, c));
        }
        if (!Double.isNaN(t.maxDeltaPercent())) {
            out.add(gate("maxDeltaPercent", "PPL delta %", GateResult.Bound.AT_MOST, t.maxDeltaPercent(),
                    c.deltaPercent(), c.deltaPercentCi(), comparedWith, c));
        }
        if (!Double.isNaN(t.maxKld())) {
            out.add(gate("maxKld", "mean KLD (nats)", GateResult.Bound.AT_MOST, t.maxKld(), c.meanKld(), c.kldCi(),
                    comparedWith, c));
        }
        if (!Double.isNaN(t.minSameTop())) {
            out.add(gate("minSameTop", "same top token %", GateResult.Bound.AT_LEAST, t.minSameTop(),
                    c.sameTopPercent(), c.sameTopCi(), comparedWith, c));
        }
        return out;
    }

    private static GateResult gate(String name, String subject, GateResult.Bound bound, double threshold,
                                   double estimate, ConfidenceInterval ci, String comparedWith, ComparisonResult c) {
        String note = c.chunks() < 2 ? "one chunk gives no interval: evaluate more chunks" : "";
        return IntervalGate.evaluate(name, subject, bound, threshold, estimate, ci.low(), ci.high(), ci.level(),
                comparedWith, note);
    }
    /** The comparison with its gate intervals (delta, delta %, KLD, same-top) widened or narrowed to {@code level}. */
    public static ComparisonResult atLevel(ComparisonResult c, double level) {
        int df = c.chunks() - 1;
        double q = df < 1 ? Double.POSITIVE_INFINITY : Statistics.tQuantile(0.5 + level / 2, df);
        ConfidenceInterval d = around(c.nllDiff(), q, level);
        double pplB = c.pplBase();
        ConfidenceInterval same = around(c.sameTopCi(), q, level);
        same = new ConfidenceInterval(same.estimate(), same.stdErr(), Math.max(0, same.low()), Math.min(100,
                same.high()), level);
        return new ComparisonResult(c.base(), c.quant(), c.pplBase(), c.pplQuant(), c.delta(), c.deltaPercent(),
                c.ratio(), c.meanKld(), c.kldStdErr(), c.kldMedian(), c.kldP99(), c.kldMax(), c.sameTopPercent(),
                c.sameTopStdErr(), d, c.nllDiffUnpaired(), d.map(x -> pplB * Math.expm1(x)),
                d.map(x -> 100 * Math.expm1(x)), d.map(Math::exp), around(c.kldCi(), q, level), same,
                c.chunkNllBase(), c.chunkNllQuant(), c.chunkNllDiff(), c.chunkKld(), c.chunkSameTop(), c.chunkScored(),
                c.tokenKld(), c.kldDistribution(), level, c.seconds());
    }

    private static ConfidenceInterval around(ConfidenceInterval ci, double q, double level) {
        double se = ci.stdErr();
        if (Double.isNaN(se) || Double.isInfinite(q)) {
            return new ConfidenceInterval(ci.estimate(), se, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY,
                    level);
        }
        return new ConfidenceInterval(ci.estimate(), se, ci.estimate() - q * se, ci.estimate() + q * se, level);
    }
}
