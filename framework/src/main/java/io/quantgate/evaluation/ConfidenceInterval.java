package io.quantgate.evaluation;

/**
 * A two-sided confidence interval around a point estimate.
 *
 * @param estimate the point estimate
 * @param stdErr   its standard error (NaN when it cannot be estimated)
 * @param low      lower bound (may be {@code -Infinity} when fewer than 2 chunks were evaluated)
 * @param high     upper bound (may be {@code +Infinity})
 * @param level    confidence level, e.g. 0.95
 */
public record ConfidenceInterval(double estimate, double stdErr, double low, double high, double level) {

    public double width() {
        return high - low;
    }

    public boolean contains(double value) {
        return value >= low && value <= high;
    }

    /** The interval mapped through a monotonically increasing function (stdErr becomes NaN). */
    public ConfidenceInterval map(java.util.function.DoubleUnaryOperator increasing) {
        return new ConfidenceInterval(increasing.applyAsDouble(estimate), Double.NaN, increasing.applyAsDouble(low),
                increasing.applyAsDouble(high), level);
    }
}
