package io.quantgate.evaluation;

/**
 * Result of one perplexity run (SPEC §3).
 *
 * @param tokens          tokens fed to the model (chunks × ctx)
 * @param streamTokens    length of the whole token stream given
 * @param chunks          chunks (windows) evaluated
 * @param scored          tokens scored (n)
 * @param ppl             exp(mean NLL)
 * @param pplStdErr       ppl · sd(NLL) / √n over all scored tokens, as llama.cpp prints after "±"
 *                        (NaN when n &lt; 2)
 * @param meanNll         mean negative log-likelihood (nats per token)
 * @param chunkMeanNll    mean NLL of every chunk
 * @param chunkNllSum     sum of NLL of every chunk
 * @param chunkScored     tokens scored in every chunk
 * @param tokenNll        NLL of every scored token, in stream order
 * @param tokenPositions  stream position of every scored (predicted) token
 * @param ctx             ctx used
 * @param mode            chunked or sliding
 * @param stride          stride used in sliding mode (0 in chunked mode)
 * @param seconds         wall-clock seconds spent in the model's {@code logits} calls; when windows run on concurrent
 *                        sequences ({@link ConcurrentLogitsModel}), the elapsed time of the whole evaluation, scoring
 *                        included (the calls and the scoring overlap across threads)
 * @param tokensPerSecond {@code tokens / seconds}
 */
public record PerplexityResult(int tokens, int streamTokens, int chunks, int scored, double ppl, double pplStdErr,
                               double meanNll, double[] chunkMeanNll, double[] chunkNllSum, int[] chunkScored,
                               double[] tokenNll, int[] tokenPositions, int ctx, PerplexityOptions.Mode mode,
                               int stride, double seconds, double tokensPerSecond) {

    /** Perplexity of chunk {@code i} alone. */
    public double chunkPpl(int i) {
        return Math.exp(chunkMeanNll[i]);
    }

    /** Standard deviation of the per-token NLL. */
    public double nllSd() {
        return Statistics.sd(tokenNll);
    }

    /** One line in llama.cpp's style, e.g. {@code PPL = 6.1234 +/- 0.0345 (255 chunks × 255 tokens)}. */
    public String summary() {
        return String.format(java.util.Locale.ROOT, "PPL = %.4f +/- %.4f (%s, ctx %d, %d chunks, %d scored, %.1f tok/s)",
                ppl, pplStdErr, mode == PerplexityOptions.Mode.SLIDING ? "sliding stride " + stride
                        : mode == PerplexityOptions.Mode.SPREAD ? "chunked, spread over the text" : "chunked", ctx,
                chunks, scored, tokensPerSecond);
    }

    static PerplexityResult build(ChunkPlan plan, PerplexityOptions o, double[] chunkSum, int[] chunkScored,
                                  double[] tokenNll, int[] tokenPos, double seconds) {
        int chunks = chunkSum.length;
        double[] chunkMean = new double[chunks];
        double total = 0;
        int n = 0;
        for (int c = 0; c < chunks; c++) {
            chunkMean[c] = chunkSum[c] / chunkScored[c];
            total += chunkSum[c];
            n += chunkScored[c];
        }
        double mean = total / n;
        double ppl = Math.exp(mean);
        double stdErr = n < 2 ? Double.NaN : ppl * Statistics.sd(tokenNll) / Math.sqrt(n);
        int tokens = chunks * plan.ctx;
        boolean sliding = o.mode() == PerplexityOptions.Mode.SLIDING;
        return new PerplexityResult(tokens, plan.tokens.length, chunks, n, ppl, stdErr, mean, chunkMean, chunkSum,
                chunkScored, tokenNll, tokenPos, plan.ctx, o.mode(), sliding ? o.effectiveStride() : 0, seconds,
                seconds > 0 ? tokens / seconds : Double.POSITIVE_INFINITY);
    }
}
