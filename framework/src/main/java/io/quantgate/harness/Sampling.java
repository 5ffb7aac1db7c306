package io.quantgate.harness;

/**
 * How a throughput measurement samples (SPEC §4 defaults: 15 warmup rounds, 100 measured, drop samples more than
 * 2σ from the mean; 95% intervals).
 *
 * @param warmup       unmeasured rounds (stopped early, after at least one, when a fifth of the time budget is spent)
 * @param iterations   measured rounds
 * @param maxSeconds   time budget of the measured rounds of one call; when it runs out fewer rounds are kept (at least
 *                     {@link #MIN_ROUNDS}) and the row says so ({@code budget_cut})
 * @param outlierSigma statistics drop samples beyond this many standard deviations of the mean (once)
 * @param confidence   level of every interval, in (0.5, 1)
 * @param pauseMillis  an untimed pause before every timed call, for engines whose worker threads spin for a while
 *                     after a call (ONNX Runtime): on a small machine the next trial would otherwise share its cores
 *                     with them. 0 for QuantGate's own kernels and models.
 */
public record Sampling(int warmup, int iterations, double maxSeconds, double outlierSigma, double confidence,
                       int pauseMillis) {
    /** Fewest measured rounds a time budget may cut a measurement to. */
    public static final int MIN_ROUNDS = 5;

    public Sampling {
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
        if (!(confidence > 0.5 && confidence < 1)) {
            throw new IllegalArgumentException("confidence must be in (0.5, 1), got " + confidence);
        }
        if (pauseMillis < 0) {
            throw new IllegalArgumentException("pauseMillis must be >= 0, got " + pauseMillis);
        }
    }

    public Sampling(int warmup, int iterations, double maxSeconds, double outlierSigma) {
        this(warmup, iterations, maxSeconds, outlierSigma, 0.95, 0);
    }

    /** SPEC §4: 15 warmup, 100 measured, 60 s budget, 2σ, 95%. */
    public static Sampling defaults() {
        return new Sampling(15, 100, 60, 2.0);
    }

    public Sampling withConfidence(double level) {
        return new Sampling(warmup, iterations, maxSeconds, outlierSigma, level, pauseMillis);
    }

    public Sampling withPauseMillis(int ms) {
        return new Sampling(warmup, iterations, maxSeconds, outlierSigma, confidence, ms);
    }
}
