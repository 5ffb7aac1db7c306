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
                       int pauseMillis, double minSampleMillis) {
    /** Fewest measured rounds a time budget may cut a measurement to. */
    public static final int MIN_ROUNDS = 5;
    /**
     * Default least duration of one sample: a call shorter than this is repeated within its round (each repeat timed
     * on its own, the sample is their mean), as JMH's iterations span many calls. Sub-millisecond kernel calls on a
     * shared VM jitter by tens of percent one by one; averaged over 10 ms they do not.
     */
    public static final double DEFAULT_MIN_SAMPLE_MILLIS = 10;

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
        if (!(minSampleMillis >= 0) || minSampleMillis > 60_000) {
            throw new IllegalArgumentException("minSampleMillis must be in [0, 60000], got " + minSampleMillis);
        }
    }

    public Sampling(int warmup, int iterations, double maxSeconds, double outlierSigma, double confidence,
                    int pauseMillis) {
        this(warmup, iterations, maxSeconds, outlierSigma, confidence, pauseMillis, DEFAULT_MIN_SAMPLE_MILLIS);
    }

    public Sampling(int warmup, int iterations, double maxSeconds, double outlierSigma) {
        this(warmup, iterations, maxSeconds, outlierSigma, 0.95, 0);
    }

    /** SPEC §4: 15 warmup, 100 measured, 60 s budget, 2σ, 95%. */
    public static Sampling defaults() {
        return new Sampling(15, 100, 60, 2.0);
    }

    public Sampling withConfidence(double level) {
        return new Sampling(warmup, iterations, maxSeconds, outlierSigma, level, pauseMillis, minSampleMillis);
    }

    public Sampling withPauseMillis(int ms) {
        return new Sampling(warmup, iterations, maxSeconds, outlierSigma, confidence, ms, minSampleMillis);
    }

    /** 0: one call per sample, however short. */
    public Sampling withMinSampleMillis(double ms) {
        return new Sampling(warmup, iterations, maxSeconds, outlierSigma, confidence, pauseMillis, ms);
    }
}
