package io.quantgate.results.model;

/**
 * A paired perplexity comparison of a configuration with its baseline on the same chunks (docs/results-schema.md,
 * {@code perplexity}).
 *
 * @param mode            {@code chunked} or {@code sliding}
 * @param stride          window stride (0 in chunked mode)
 * @param chunks          chunks (windows) evaluated
 * @param scored          tokens scored
 * @param streamTokens    tokens of the whole text stream
 * @param pplBaseStderr   llama.cpp's ± of the baseline perplexity (PPL · sd(NLL)/√n)
 * @param nllDiff         mean NLL(quant) − mean NLL(base), paired over chunks: the basis of delta, delta % and ratio
 * @param nllDiffUnpaired the same difference as two independent means, for contrast (never gated)
 * @param kldMean         mean KL(base ‖ quant) per scored token (nats), clustered over chunks
 * @param sameTopPercent  % of scored positions where both models' argmax agree
 * @param remeasures      how often an inconclusive gate doubled the chunks
 * @param kldDistribution llama.cpp's KLD percentiles and Δp statistics ({@link KldDistribution#NONE} in older files)
 */
public record PerplexityRecord(int ctx, String mode, int stride, int chunks, long scored, long streamTokens,
                               double confidenceLevel, double pplBase, double pplBaseStderr, double pplQuant,
                               double pplQuantStderr, Interval delta, Interval deltaPercent, Interval ratio,
                               Interval nllDiff, Interval nllDiffUnpaired, Interval kldMean, double kldStderr,
                               double kldMedian, double kldP99, double kldMax, Interval sameTopPercent,
                               double seconds, double baseSeconds, double quantSeconds, double quantTokensPerSecond,
                               int remeasures, Samples samples, KldDistribution kldDistribution) {

    public PerplexityRecord {
        delta = orNone(delta);
        deltaPercent = orNone(deltaPercent);
        ratio = orNone(ratio);
        nllDiff = orNone(nllDiff);
        nllDiffUnpaired = orNone(nllDiffUnpaired);
        kldMean = orNone(kldMean);
        sameTopPercent = orNone(sameTopPercent);
        samples = samples == null ? Samples.NONE : samples;
        kldDistribution = kldDistribution == null ? KldDistribution.NONE : kldDistribution;
    }

    private static Interval orNone(Interval i) {
        return i == null ? Interval.NONE : i;
    }

    /**
     * Raw per-chunk samples, chunk order.
     *
     * @param chunkNllBase  mean NLL of the baseline per chunk
     * @param chunkNllQuant mean NLL of the configuration per chunk
     * @param chunkKld      mean KLD per chunk
     * @param chunkSameTop  fraction (0…1) of same-argmax positions per chunk
     * @param chunkScored   tokens scored per chunk
     */
    public record Samples(double[] chunkNllBase, double[] chunkNllQuant, double[] chunkKld, double[] chunkSameTop,
                          int[] chunkScored) {
        public static final Samples NONE = new Samples(new double[0], new double[0], new double[0], new double[0],
                new int[0]);

        public Samples {
            chunkNllBase = chunkNllBase == null ? new double[0] : chunkNllBase;
            chunkNllQuant = chunkNllQuant == null ? new double[0] : chunkNllQuant;
            chunkKld = chunkKld == null ? new double[0] : chunkKld;
            chunkSameTop = chunkSameTop == null ? new double[0] : chunkSameTop;
            chunkScored = chunkScored == null ? new int[0] : chunkScored;
        }
    }
}
