package io.quantgate.reports;

import io.quantgate.results.model.Interval;

/**
 * A mixed-precision configuration next to a uniform one of the same model and backend near it in size, evaluated the
 * same way (same text, ctx, chunks and baseline). The differences are paired chunk by chunk on the very same tokens
 * ({@link PairedDifference}): {@link #mixedVsUniformPercent()} = 100 · (PPL(mixed) / PPL(uniform) − 1) and
 * {@link #kldDifference()} = KLD(mixed) − KLD(uniform), each with its interval (negative: the mixed configuration is
 * better). {@link #bits()} says whether the uniform configuration had fewer, equal or more bits per weight: a win over
 * a uniform configuration that had fewer bits shows little.
 *
 * @param mixedVsUniformPercent paired 100 · (PPL(mixed)/PPL(uniform) − 1); bounds NaN when the records carry no
 *                              per-chunk samples
 * @param kldDifference         paired mean KLD(mixed) − mean KLD(uniform)
 */
public record MixedComparison(ConfigRow mixed, ConfigRow uniform, Interval mixedVsUniformPercent,
                              Interval kldDifference) {

    /** The pair when both were evaluated on the same chunks against the same baseline; null otherwise. */
    static MixedComparison paired(ConfigRow mixed, ConfigRow uniform, double level) {
        if (!PairedDifference.comparable(mixed, uniform)) {
            return null;
        }
        return new MixedComparison(mixed, uniform, PairedDifference.pplPercent(mixed, uniform, level),
                PairedDifference.kld(mixed, uniform, level));
    }

    /** The uniform configuration's bits per weight relative to the mixed one's, in words, for the table. */
    String bits() {
        double rel = uniform.compression() / mixed.compression();
        return rel > 1 + 1e-9 ? "fewer bits" : rel < 1 - 1e-9 ? "more bits" : "equal bits";
    }
}
