package io.quantgate.evaluation;

/**
 * Progress of a perplexity run, reported after every chunk (or window).
 *
 * @param chunk           chunks done so far, 1-based ({@code chunk == chunks} on the last report)
 * @param chunks          total number of chunks of the run
 * @param scored          tokens scored so far
 * @param runningPpl      perplexity over the tokens scored so far (of the quantized model in a
 *                        comparison)
 * @param runningBasePpl  baseline perplexity so far in a comparison; NaN for a single-model run
 * @param runningKld      mean KL(base || quant) so far in a comparison; NaN for a single-model run
 * @param elapsedSeconds  wall-clock seconds since the run started
 */
public record Progress(int chunk, int chunks, long scored, double runningPpl, double runningBasePpl,
                       double runningKld, double elapsedSeconds) {

    /** Fraction done, in (0, 1]. */
    public double fraction() {
        return chunks == 0 ? 1.0 : (double) chunk / chunks;
    }
}
