package io.quantgate.reports;

/**
 * The perplexity comparison of one record ({@code perplexity} in the schema), reduced to what the report shows.
 *
 * @param evalTokensPerSecond tokens the quantized model scored per second during the perplexity evaluation
 *                            ({@code quant_tokens_per_second}: batched scoring, not generation)
 * @param samples             chunks with raw samples ({@code samples.chunk_nll_quant} length): an interval exists
 *                            only when there are at least two
 */
public record PerplexityFigures(int ctx, String mode, int stride, int chunks, long scored, long streamTokens,
                                double confidence, double pplBase, double pplQuant, Interval deltaPercent,
                                Interval kld, Interval sameTopPercent, double evalTokensPerSecond, int remeasures,
                                int samples) {
}
