package io.quantgate.gate;

/**
 * The quality limits of SPEC §5; NaN = that gate is off.
 *
 * @param maxDelta        PPL(quant) − PPL(base) at most this, ≥ 0
 * @param maxDeltaPercent 100 · (PPL(quant)/PPL(base) − 1) at most this, ≥ 0
 * @param maxKld          mean KL(base ‖ quant) at most this (nats), ≥ 0
 * @param minSameTop      same-top-token % at least this, in [0, 100]
 */
public record QualityThresholds(double maxDelta, double maxDeltaPercent, double maxKld, double minSameTop) {

    /**
     * @throws IllegalArgumentException naming the limit that is out of range (negative, infinite, over 100 %)
     */
    public QualityThresholds {
        nonNegative("maxDelta", maxDelta);
        nonNegative("maxDeltaPercent", maxDeltaPercent);
        nonNegative("maxKld", maxKld);
        if (!Double.isNaN(minSameTop) && !(minSameTop >= 0 && minSameTop <= 100)) {
            throw new IllegalArgumentException("minSameTop must be a percentage in [0, 100], got " + minSameTop);
        }
    }

    private static void nonNegative(String name, double v) {
        if (!Double.isNaN(v) && !(v >= 0 && v < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(name + " must be >= 0 and finite (a limit on how much worse the "
                    + "quantized model may be), got " + v);
        }
    }

    public static QualityThresholds none() {
        return new QualityThresholds(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    /** Whether any gate is on. */
    public boolean any() {
        return !Double.isNaN(maxDelta) || !Double.isNaN(maxDeltaPercent) || !Double.isNaN(maxKld)
                || !Double.isNaN(minSameTop);
    }
}
