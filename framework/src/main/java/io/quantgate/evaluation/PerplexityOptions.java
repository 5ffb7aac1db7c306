package io.quantgate.evaluation;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Options of a perplexity run (SPEC §3).
 *
 * @param ctx             tokens per chunk / window fed to the model (default 512); at least 4
 * @param maxChunks       evaluate at most this many chunks (windows); 0 = all that fit
 * @param mode            {@link Mode#CHUNKED} (llama.cpp's default method), {@link Mode#SPREAD} (chunked, a
 *                        partial run's chunks spread over the text) or {@link Mode#SLIDING}
 * @param stride          sliding-window stride; 0 = {@code ctx / 2}; otherwise in {@code [1, ctx - 1]}.
 *                        Ignored in chunked mode.
 * @param bosToken        the token written over the first token of every chunk/window;
 *                        {@link #BOS_FROM_STREAM} (default) takes {@code tokens[0]} (the stream is
 *                        tokenized BOS first), {@link #KEEP_FIRST_TOKEN} replaces nothing (models
 *                        whose tokenizer adds no BOS)
 * @param confidenceLevel level of the confidence intervals of a comparison, in (0, 1); default 0.95
 * @param progress        called after every chunk; may be null
 */
public record PerplexityOptions(int ctx, int maxChunks, Mode mode, int stride, int bosToken,
                                double confidenceLevel, Consumer<Progress> progress) {

    public static final int DEFAULT_CTX = 512;
    public static final double DEFAULT_CONFIDENCE_LEVEL = 0.95;
    /** {@link #bosToken()}: use {@code tokens[0]} of the stream as BOS. */
    public static final int BOS_FROM_STREAM = -1;
    /** {@link #bosToken()}: leave the first token of every chunk as it is. */
    public static final int KEEP_FIRST_TOKEN = -2;

    /** How the token stream is cut. */
    public enum Mode {
        /**
         * llama.cpp's perplexity: non-overlapping chunks of {@code ctx} tokens, only the second half
         * of each chunk scored ({@code ctx - ctx/2 - 1} tokens, 255 at ctx 512).
         */
        CHUNKED,
        /**
         * {@link #CHUNKED}, but when fewer chunks are asked for than the text holds, they are spread evenly over
         * the text (chunk {@code ⌊i·A/N⌋} of the A the text holds, for i = 0..N−1) instead of llama.cpp's first N.
         * N consecutive chunks are a cluster sample of one or two articles; spread ones sample the whole text, which
         * keeps a gate's wrong verdicts at ≤ 1 % where the first N gave up to 2 % (docs/reliability.md). With every
         * chunk used it is exactly CHUNKED (and results say so).
         */
        SPREAD,
        /**
         * Sliding window: windows of {@code ctx} tokens starting every {@code stride} tokens; the
         * first window scores all its {@code ctx - 1} predictions, each later window only its last
         * {@code stride} tokens, so every token from position 1 on is scored exactly once.
         */
        SLIDING
    }

    public PerplexityOptions {
        if (ctx < 4) {
            throw new IllegalArgumentException("ctx must be at least 4 tokens, got " + ctx);
        }
        if (maxChunks < 0) {
            throw new IllegalArgumentException("chunks must be >= 0 (0 = all), got " + maxChunks);
        }
        Objects.requireNonNull(mode, "mode");
        if (stride < 0 || stride >= ctx) {
            throw new IllegalArgumentException(
                    "stride must be in [1, ctx - 1] = [1, " + (ctx - 1) + "] (or 0 for ctx/2), got " + stride);
        }
        if (bosToken < KEEP_FIRST_TOKEN) {
            throw new IllegalArgumentException("bosToken must be a token id, BOS_FROM_STREAM (-1) or "
                    + "KEEP_FIRST_TOKEN (-2), got " + bosToken);
        }
        if (!(confidenceLevel > 0 && confidenceLevel < 1)) {
            throw new IllegalArgumentException("confidenceLevel must be in (0, 1), got " + confidenceLevel);
        }
    }

    /** llama.cpp defaults: chunked, ctx 512, all chunks, BOS from the stream, 95% intervals. */
    public static PerplexityOptions defaults() {
        return new PerplexityOptions(DEFAULT_CTX, 0, Mode.CHUNKED, 0, BOS_FROM_STREAM, DEFAULT_CONFIDENCE_LEVEL,
                null);
    }

    /** Chunked mode with the given ctx. */
    public static PerplexityOptions chunked(int ctx) {
        return defaults().withCtx(ctx);
    }

    /** Sliding-window mode with the given ctx and stride (0 = ctx/2). */
    public static PerplexityOptions sliding(int ctx, int stride) {
        return new PerplexityOptions(ctx, 0, Mode.SLIDING, stride, BOS_FROM_STREAM, DEFAULT_CONFIDENCE_LEVEL,
                null);
    }

    public PerplexityOptions withCtx(int newCtx) {
        return new PerplexityOptions(newCtx, maxChunks, mode, stride, bosToken, confidenceLevel, progress);
    }

    public PerplexityOptions withChunks(int newMaxChunks) {
        return new PerplexityOptions(ctx, newMaxChunks, mode, stride, bosToken, confidenceLevel, progress);
    }

    public PerplexityOptions withMode(Mode newMode) {
        return new PerplexityOptions(ctx, maxChunks, newMode, stride, bosToken, confidenceLevel, progress);
    }

    public PerplexityOptions withStride(int newStride) {
        return new PerplexityOptions(ctx, maxChunks, mode, newStride, bosToken, confidenceLevel, progress);
    }

    public PerplexityOptions withBosToken(int newBosToken) {
        return new PerplexityOptions(ctx, maxChunks, mode, stride, newBosToken, confidenceLevel, progress);
    }

    public PerplexityOptions withConfidenceLevel(double level) {
        return new PerplexityOptions(ctx, maxChunks, mode, stride, bosToken, level, progress);
    }

    public PerplexityOptions withProgress(Consumer<Progress> newProgress) {
        return new PerplexityOptions(ctx, maxChunks, mode, stride, bosToken, confidenceLevel, newProgress);
    }

    /** The stride in use: {@link #stride()} or {@code ctx / 2} when it is 0. */
    public int effectiveStride() {
        return stride > 0 ? stride : ctx / 2;
    }
}
