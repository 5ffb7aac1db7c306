package io.quantgate.evaluation.throughput;

/**
 * How a throughput measurement samples (SPEC §4 defaults: 15 warmup rounds, 100 measured, drop samples more
 * than 2σ from the mean).
 *
 * @param warmup       unmeasured rounds
 * @param iterations   measured rounds
 * @param maxSeconds   time budget of the measured rounds; when it runs out fewer rounds are kept (at least
 *                     {@link #MIN_ROUNDS}) and the count is reported
 * @param outlierSigma statistics drop samples beyond this many standard deviations
 */
public record SamplingPlan(int warmup, int iterations, double maxSeconds, double outlierSigma) {
    /** Fewest measured rounds a time budget may cut a measurement to. */
    public static final int MIN_ROUNDS = 5;

    public SamplingPlan {
        if (warmup < 0) {
            throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
        }
        if (iterations < 2) {
            throw new IllegalArgumentException("iterations must be >= 2 (an interval needs two rounds), got " + iterations);
        }
        if (!(maxSeconds > 0)) {
            throw new IllegalArgumentException("maxSeconds must be > 0, got " + maxSeconds);
        }
        if (!(outlierSigma > 0)) {
            throw new IllegalArgumentException("outlierSigma must be > 0, got " + outlierSigma);
        }
    }

    public static SamplingPlan defaults() {
        return new SamplingPlan(15, 100, 60, 2.0);
    }
}
