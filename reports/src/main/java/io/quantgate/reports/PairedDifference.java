package io.quantgate.reports;

import io.quantgate.evaluation.ConfidenceInterval;
import io.quantgate.evaluation.Statistics;
import io.quantgate.results.model.Interval;
import io.quantgate.results.model.PerplexityRecord;

import java.util.Arrays;

/**
 * Two configurations evaluated on the very same chunks against the same baseline, compared chunk by chunk: the
 * paired difference has a much narrower interval than two independent intervals would suggest, because the text's
 * own difficulty cancels. Used wherever the report claims one configuration beats another (mixed vs uniform,
 * calibrated vs round to nearest).
 */
final class PairedDifference {
    private PairedDifference() {
    }

    /** Whether a and b were evaluated the same way (text length, ctx, chunks, mode, baseline perplexity). */
    static boolean comparable(ConfigRow a, ConfigRow b) {
        PerplexityRecord x = a.ppl();
        PerplexityRecord y = b.ppl();
        return x != null && y != null && x.ctx() == y.ctx() && x.chunks() == y.chunks() && x.stride() == y.stride()
                && x.mode().equals(y.mode()) && Math.abs(x.pplBase() - y.pplBase()) <= 1e-9 * Math.abs(y.pplBase());
    }

    /** 100 · (PPL(a)/PPL(b) − 1), paired over chunks; bounds NaN without per-chunk samples. */
    static Interval pplPercent(ConfigRow a, ConfigRow b, double level) {
        PerplexityRecord x = a.ppl();
        PerplexityRecord y = b.ppl();
        double est = 100 * (x.pplQuant() / y.pplQuant() - 1);
        PerplexityRecord.Samples sa = x.samples();
        PerplexityRecord.Samples sb = y.samples();
        if (!sameChunks(sa, sb) || sa.chunkNllQuant().length != sa.chunkScored().length
                || sb.chunkNllQuant().length != sb.chunkScored().length) {
            return new Interval(est, Double.NaN, Double.NaN, Double.NaN);
        }
        int n = sa.chunkScored().length;
        double[] sums = new double[n];
        for (int c = 0; c < n; c++) {
            sums[c] = (sa.chunkNllQuant()[c] - sb.chunkNllQuant()[c]) * sa.chunkScored()[c];
        }
        ConfidenceInterval d = Statistics.clusteredMean(sums, sa.chunkScored(), level);
        return new Interval(est, 100 * Math.expm1(d.low()), 100 * Math.expm1(d.high()), level);
    }

    /** Mean KLD(a) − mean KLD(b) from the shared baseline, paired over chunks; bounds NaN without samples. */
    static Interval kld(ConfigRow a, ConfigRow b, double level) {
        PerplexityRecord x = a.ppl();
        PerplexityRecord y = b.ppl();
        double est = x.kldMean().estimate() - y.kldMean().estimate();
        PerplexityRecord.Samples sa = x.samples();
        PerplexityRecord.Samples sb = y.samples();
        if (!sameChunks(sa, sb) || sa.chunkKld().length != sa.chunkScored().length
                || sb.chunkKld().length != sb.chunkScored().length) {
            return new Interval(est, Double.NaN, Double.NaN, Double.NaN);
        }
        int n = sa.chunkScored().length;
        double[] sums = new double[n];
        for (int c = 0; c < n; c++) {
            sums[c] = (sa.chunkKld()[c] - sb.chunkKld()[c]) * sa.chunkScored()[c];
        }
        ConfidenceInterval d = Statistics.clusteredMean(sums, sa.chunkScored(), level);
        return new Interval(d.estimate(), d.low(), d.high(), level);
    }

    private static boolean sameChunks(PerplexityRecord.Samples a, PerplexityRecord.Samples b) {
        return a.chunkScored().length > 0 && Arrays.equals(a.chunkScored(), b.chunkScored());
    }
}
