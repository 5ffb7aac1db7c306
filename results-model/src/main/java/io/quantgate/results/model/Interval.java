package io.quantgate.results.model;

/**
 * A point estimate with its confidence interval ({@code {"estimate", "low", "high", "level"}}); any part may be NaN
 * (not measured, or an unbounded interval, which the JSON holds as null).
 */
public record Interval(double estimate, double low, double high, double level) {
    public static final Interval NONE = new Interval(Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    public boolean hasEstimate() {
        return Double.isFinite(estimate);
    }

    public boolean hasBounds() {
        return Double.isFinite(low) && Double.isFinite(high);
    }
}
