package io.quantgate.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Measures speed (SPEC §4) and gates on it (SPEC §5). Every round runs the configuration, the
 * {@link #reference()} and a memory-bandwidth probe one after the other, rotating their order each round
 * (A B P, B P A, P A B, …), so that ratios are taken between measurements made side by side: absolute
 * times on a shared machine drift by tens of percent, ratios of neighbours much less. At {@link Level#PREFILL} and
 * {@link Level#DECODE}, whose samples last seconds, the probe reads just before and just after every sample instead,
 * and each sample's fraction of bandwidth uses those two reads.
 *
 * <ul>
 *   <li>{@link Level#KERNEL}: the fused dequantize-GEMV/GEMM on weight shapes N×K with
 *       batch M ∈ {@link #batch()}, seeded synthetic weights rotated over enough copies that every call
 *       reads from DRAM; rate = weight GB/s (also GFLOP/s and the fraction of the probe's bandwidth).</li>
 *   <li>{@link Level#PREFILL}: a prompt of {@link #tokens()} (default 512, "pp512") in one batch from an
 *       empty cache; rate = tokens/s.</li>
 *   <li>{@link Level#DECODE}: {@link #tokens()} (default 128, "tg128") single-token steps; rate = tokens/s,
 *       and the ceiling probe bandwidth ÷ bytes read per token.</li>
 * </ul>
 * Sampling: {@link #warmup()} unmeasured rounds, then {@link #iterations()} measured ones (or fewer when
 * {@link #maxSeconds()} runs out, at least 5); statistics drop samples beyond {@link #outlierSigma()}
 * standard deviations and report median, mean, sd, min, max, p5, p95 and n kept. Raw samples go to
 * {@code results.json}.
 *
 * <p>Gates (NaN = off), decided on 95% percentile-bootstrap intervals:
 * <ul>
 *   <li>{@link #minSpeedupOver()}: the median of the per-round ratios time(reference) / time(config) (both do the same work);
 *       passes when the interval's lower bound ≥ the limit, fails when its upper bound &lt; the limit;</li>
 *   <li>{@link #minTokensPerSecond()} (PREFILL/DECODE): the median tokens/s, likewise;</li>
 *   <li>{@link #maxRegressionPercent()}: compares the raw samples with the stored baseline of this model,
 *       config, backend, measurement and machine fingerprint (see the user guide): the interval of the
 *       ratio of medians (current / stored, bootstrap of both samples) must lie above
 *       {@code 1 − maxRegressionPercent / 100}. No stored baseline for this machine is inconclusive, saying so;
 *       {@code -Dquantgate.baseline.update=true} records one.</li>
 * </ul>
 * An inconclusive gate adds {@link #iterations()} more rounds, up to {@link #maxIterations()}, then aborts.
 *
 * <pre>{@code
 * @QuantTest
 * @QuantConfig({"fp4-g128", "int4-g128"})
 * @Throughput(level = Throughput.Level.KERNEL, shapes = {"4096x4096", "11008x4096"}, batch = {1, 16},
 *             reference = "fp16", minSpeedupOver = 2.0)
 * void kernels(ThroughputResult t) { }
 * }</pre>
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Throughput {

    enum Level {
        KERNEL, PREFILL, DECODE
    }

    Level level() default Level.DECODE;

    /**
     * KERNEL: weight shapes {@code "NxK"} (N outputs, K inputs), e.g. {@code "4096x11008"}; empty = the
     * distinct linear shapes of the {@link QuantBench#model()}.
     */
    String[] shapes() default {};

    /** KERNEL: activation rows M (1 = GEMV). */
    int[] batch() default {1};

    /** PREFILL: prompt tokens (0 = 512); DECODE: generated tokens (0 = 128). */
    int tokens() default 0;

    /**
     * DECODE: a prompt of this many tokens before the timed steps (untimed, as llama-bench's {@code -d}), so that every
     * step's attention reads a cache that long; 0 = from an empty cache. The row's label becomes {@code tg128@d1536}
     * (its baseline is stored under that label) and its ceiling counts the cache's bytes. On an engine that decodes
     * only from an empty cache the invocation is aborted with that reason, before anything is measured.
     */
    int depth() default 0;

    /**
     * What speedups are taken against, measured in the same rounds: a config id; empty = fp16 at KERNEL
     * level, the {@link QuantBench#baseline()} otherwise.
     */
    String reference() default "";

    /** Activations for this measurement ({@code fp32} or {@code int8}); empty = {@link QuantBench#activations()}. */
    String activations() default "";

    /** Unmeasured rounds (overridden by {@code quantgate.warmup}). */
    int warmup() default 15;

    /** Measured rounds (overridden by {@code quantgate.iterations}). */
    int iterations() default 100;

    /** Upper limit of measured rounds when re-measuring an inconclusive gate; 0 = 4 × iterations. */
    int maxIterations() default 0;

    /** Time budget per row in seconds; when it runs out fewer rounds are kept (at least 5) and the count is reported. */
    double maxSeconds() default 60;

    /** Samples farther than this many standard deviations from the mean are dropped from the statistics. */
    double outlierSigma() default 2.0;

    /** Gate: median paired speedup over {@link #reference()} at least this. */
    double minSpeedupOver() default Double.NaN;

    /** Gate: regression against the stored baseline at most this many percent. */
    double maxRegressionPercent() default Double.NaN;

    /** Gate (PREFILL/DECODE): median tokens/s at least this. */
    double minTokensPerSecond() default Double.NaN;
}
