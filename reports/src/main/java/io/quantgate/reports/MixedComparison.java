package io.quantgate.reports;

import io.quantgate.evaluation.ConfidenceInterval;
import io.quantgate.evaluation.Statistics;
import io.quantgate.results.model.Interval;
import io.quantgate.results.model.PerplexityRecord;

import java.util.Arrays;

/**
 * A mixed-precision configuration next to a uniform one of the same model and backend that stores its linears in as
 * many or fewer bits per weight (compression ratio at least the mixed one's), evaluated the same way (same text, ctx,
 * chunks and baseline). The difference is paired: per chunk, mean NLL(mixed) − mean NLL(uniform) on the very same
 * tokens, clustered over chunks, so {@link #mixedVsUniformPercent()} = 100 · (PPL(mixed) / PPL(uniform) − 1) comes
 * with its own interval (negative: the mixed configuration is better).
 *
 * @param mixedVsUniformPercent paired 100 · (PPL(mixed)/PPL(uniform) − 1) with its interval; {@link Interval#NONE}'s
 *                              bounds when the records carry no per-chunk samples
 */
public record MixedComparison(ConfigRow mixed, ConfigRow uniform, Interval mixedVsUniformPercent) {

    /** The pair when both were evaluated on the same chunks against the same baseline; null otherwise. */
    static MixedComparison paired(ConfigRow mixed, ConfigRow uniform, double level) {
        PerplexityRecord a = mixed.ppl(), b = uniform.ppl();
        if (a == null || b == null || a.ctx() != b.ctx() || a.chunks() != b.chunks() || a.stride() != b.stride()
                || !a.mode().equals(b.mode()) || Math.abs(a.pplBase() - b.pplBase()) > 1e-9 * Math.abs(b.pplBase())) {
            return null;
        }
        double est = 100 * (a.pplQuant() / b.pplQuant() - 1);
        PerplexityRecord.Samples sa = a.samples(), sb = b.samples();
        if (sa.chunkScored().length == 0 || !Arrays.equals(sa.chunkScored(), sb.chunkScored())
                || sa.chunkNllQuant().length != sa.chunkScored().length
                || sb.chunkNllQuant().length != sb.chunkScored().length) {
            return new MixedComparison(mixed, uniform, new Interval(est, Double.NaN, Double.NaN, Double.NaN));
        }
        int n = sa.chunkScored().length;
        double[] sums = new double[n];
        for (int c = 0; c < n; c++) {
            sums[c] = (sa.chunkNllQuant()[c] - sb.chunkNllQuant()[c]) * sa.chunkScored()[c];
        }
        ConfidenceInterval d = Statistics.clusteredMean(sums, sa.chunkScored(), level);
        return new MixedComparison(mixed, uniform, new Interval(est, 100 * Math.expm1(d.low()),
                100 * Math.expm1(d.high()), level));
    }

    /** Bits-per-weight comparison in words, for the table. */
    String bits() {
        return uniform.compression() > mixed.compression() * (1 + 1e-9) ? "fewer" : "equal";
    }
}
