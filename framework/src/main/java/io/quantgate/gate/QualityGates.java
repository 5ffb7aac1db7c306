package io.quantgate.gate;

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
}
