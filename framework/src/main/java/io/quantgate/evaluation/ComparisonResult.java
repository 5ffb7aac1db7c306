package io.quantgate.evaluation;

/**
 * Paired comparison of a quantized model against its baseline on the same tokens (SPEC §3, §5).
 * See {@link PerplexityComparison} for the definitions and the confidence-interval method.
 *
 * @param base             the baseline's own perplexity result (seconds = time in the baseline's calls)
 * @param quant            the quantized model's own perplexity result
 * @param pplBase          PPL of the baseline
 * @param pplQuant         PPL of the quantized model
 * @param delta            pplQuant − pplBase
 * @param deltaPercent     100 · delta / pplBase
 * @param ratio            pplQuant / pplBase
 * @param meanKld          mean over scored tokens of KL(base ‖ quant), nats
 * @param kldStdErr        sd(KLD) / √n over tokens (llama.cpp's ±); NaN when n &lt; 2
 * @param kldMedian        median per-token KLD
 * @param kldP99           99th percentile of the per-token KLD
 * @param kldMax           largest per-token KLD
 * @param sameTopPercent   % of scored positions where both models' argmax agree
 * @param sameTopStdErr    binomial standard error of sameTopPercent, in percentage points
 * @param nllDiff          paired CI of mean NLL(quant) − mean NLL(base) (= ln ratio), chunks as clusters
 * @param nllDiffUnpaired  the same difference with the two means treated as independent (for contrast;
 *                         not used by gates)
 * @param deltaCi          CI of delta: pplBase · (exp(nllDiff) − 1)
 * @param deltaPercentCi   CI of deltaPercent: 100 · (exp(nllDiff) − 1)
 * @param ratioCi          CI of ratio: exp(nllDiff)
 * @param kldCi            chunk-clustered CI of the mean KLD
 * @param sameTopCi        chunk-clustered CI of sameTopPercent
 * @param chunkNllBase     mean NLL of the baseline per chunk
 * @param chunkNllQuant    mean NLL of the quantized model per chunk
 * @param chunkNllDiff     chunkNllQuant − chunkNllBase
 * @param chunkKld         mean KLD per chunk
 * @param chunkSameTop     same-top-token fraction (0…1) per chunk
 * @param chunkScored      scored tokens per chunk
 * @param tokenKld         KLD of every scored token, in stream order
 * @param kldDistribution  llama.cpp's KLD percentiles and Δp statistics over the scored tokens
 * @param confidenceLevel  level of all intervals
 * @param seconds          wall-clock seconds of the whole comparison
 */
public record ComparisonResult(PerplexityResult base, PerplexityResult quant, double pplBase, double pplQuant,
                               double delta, double deltaPercent, double ratio, double meanKld, double kldStdErr,
                               double kldMedian, double kldP99, double kldMax, double sameTopPercent,
                               double sameTopStdErr, ConfidenceInterval nllDiff, ConfidenceInterval nllDiffUnpaired,
                               ConfidenceInterval deltaCi, ConfidenceInterval deltaPercentCi,
                               ConfidenceInterval ratioCi, ConfidenceInterval kldCi, ConfidenceInterval sameTopCi,
                               double[] chunkNllBase, double[] chunkNllQuant, double[] chunkNllDiff,
                               double[] chunkKld, double[] chunkSameTop, int[] chunkScored, double[] tokenKld,
                               io.quantgate.results.model.KldDistribution kldDistribution, double confidenceLevel, double seconds) {

    public int chunks() {
        return chunkScored.length;
    }

    public int scored() {
        return base.scored();
    }

    public String summary() {
        return String.format(java.util.Locale.ROOT,
                "PPL base %.4f, quant %.4f, delta %+.4f (%+.3f%%, %.0f%% CI [%+.3f%%, %+.3f%%]), ratio %.5f, "
                        + "mean KLD %.6f +/- %.6f, same top %.2f%% (%d chunks, %d scored)",
                pplBase, pplQuant, delta, deltaPercent, confidenceLevel * 100, deltaPercentCi.low(),
                deltaPercentCi.high(), ratio, meanKld, kldStdErr, sameTopPercent, chunks(), scored());
    }
}
