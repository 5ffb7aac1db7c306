package io.quantgate.reports;

/**
 * A point estimate with its confidence interval as results.json stores it; any part may be NaN (not measured,
 * or an unbounded interval, which the schema writes as null).
 */
public record Interval(double estimate, double low, double high) {
    public static final Interval NONE = new Interval(Double.NaN, Double.NaN, Double.NaN);

    public boolean hasEstimate() {
        return Double.isFinite(estimate);
    }

    public boolean hasBounds() {
        return Double.isFinite(low) && Double.isFinite(high);
    }

    /**
     * The larger distance from the estimate to an end of the interval: XChart draws symmetric error bars, and a
     * bar that covers the whole interval overstates the uncertainty on one side rather than hiding it on the other.
     */
    public double coveringHalfWidth() {
        if (!hasEstimate() || !hasBounds()) {
            return 0;
        }
        return Math.max(estimate - low, high - estimate);
    }
}
