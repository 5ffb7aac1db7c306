package io.quantgate.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Measures the quality of each quantized configuration against the {@link QuantBench#baseline()} on
 * the same tokens (llama.cpp-compatible perplexity, SPEC §3) and gates on it (SPEC §5).
 *
 * <p>Every gate is decided on the paired confidence interval over chunks (level
 * {@code quantgate.confidence}, default 0.95) of the quantity, never on the point estimate alone:
 * <ul>
 *   <li>an upper limit ({@code maxDelta}, {@code maxDeltaPercent}, {@code maxKld}) <b>passes</b> when
 *       the interval's upper bound is ≤ the limit, <b>fails</b> when its lower bound is &gt; the limit,
 *       and is <b>inconclusive</b> otherwise;</li>
 *   <li>the lower limit {@code minSameTop} passes when the lower bound is ≥ the limit, fails when the
 *       upper bound is &lt; the limit, and is inconclusive otherwise.</li>
 * </ul>
 * When no gate fails but one is inconclusive, the comparison is re-run with twice the chunks, up to
 * {@link #maxChunks()} (and never more than the text holds); still inconclusive then, the test is
 * aborted with the reason. Gates left at their default ({@code NaN}) are not evaluated.
 *
 * <pre>{@code
 * @QuantTest
 * @QuantConfig({"fp4-g32", "int4-g64"})
 * @Perplexity(ctx = 512, chunks = 16, maxDeltaPercent = 3.0, maxKld = 0.05, minSameTop = 85)
 * void quality(ComparisonResult c) { }
 * }</pre>
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface Perplexity {

    /** How the token stream is cut (see {@link io.quantgate.evaluation.PerplexityOptions.Mode}). */
    enum Method {
        /**
         * llama.cpp: non-overlapping chunks of ctx tokens, the second half of each scored; a partial run takes the
         * first {@code chunks} of them, as {@code llama-perplexity --chunks} does.
         */
        CHUNKED,
        /**
         * The default: CHUNKED, but a partial run's chunks are spread evenly over the text instead of the first ones
         * (the same figures as CHUNKED when every chunk is used). A sample of the whole text rather than of its first
         * articles: the gates' wrong verdicts stay at ≤ 1 % (docs/reliability.md).
         */
        SPREAD,
        /** Windows of ctx tokens every {@code stride} tokens; every token scored once. */
        SLIDING
    }

    /** Tokens per chunk (window); at least 4 and at most the model's context. */
    int ctx() default 512;

    /**
     * Chunks (windows) evaluated first; 0 = all the text holds (then there is nothing left to
     * re-measure with). Overridden by the configuration parameter {@code quantgate.chunks}.
     */
    int chunks() default 0;

    /** Upper limit of chunks for re-measuring an inconclusive verdict; 0 = 8 × {@link #chunks()}. */
    int maxChunks() default 0;

    Method method() default Method.SPREAD;

    /** Sliding-window stride; 0 = ctx / 2. Only with {@link Method#SLIDING}. */
    int stride() default 0;

    /** Gate: PPL(quant) − PPL(base) at most this (absolute perplexity points). */
    double maxDelta() default Double.NaN;

    /** Gate: 100 · (PPL(quant) / PPL(base) − 1) at most this many percent. */
    double maxDeltaPercent() default Double.NaN;

    /** Gate: mean KL(base ‖ quant) per scored token at most this (nats). */
    double maxKld() default Double.NaN;

    /** Gate: the two models' most likely next token agree on at least this % of scored positions. */
    double minSameTop() default Double.NaN;

    /**
     * Gate, cross-engine agreement: on a backend other than {@code native} (see {@link Backends}), the same
     * configuration's perplexity on that engine and on {@code native}, on the same chunks, differ by at most this many
     * percent: |PPL(engine) / PPL(native) − 1| · 100, decided on its paired interval like the other gates. The same
     * weights must give the same quality on every engine; a disagreement fails naming both engines, both figures and
     * what each ran (files included). Not evaluated on {@code native} itself.
     */
    double maxEngineDeltaPercent() default Double.NaN;
}
