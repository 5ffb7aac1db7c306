package io.quantgate.results.model;

/** The ends of an interval whose estimate is given elsewhere ({@code {"low", "high"}}); NaN when unknown. */
public record Range(double low, double high) {
    public static final Range NONE = new Range(Double.NaN, Double.NaN);

    public boolean hasBounds() {
        return Double.isFinite(low) && Double.isFinite(high);
    }

    public boolean contains(double v) {
        return v >= low && v <= high;
    }
}
