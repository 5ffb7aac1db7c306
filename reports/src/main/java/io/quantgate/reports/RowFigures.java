package io.quantgate.reports;

import io.quantgate.results.model.Interval;
import io.quantgate.results.model.ThroughputRow;

/**
 * What the report shows of a throughput row: the median rate and the median paired speedup, each with the bootstrap
 * interval of the median, as one {@link Interval} (NaN parts where the row has none), and which kind of row it is.
 */
final class RowFigures {
    private RowFigures() {
    }

    /** Median rate ({@code rate.median}) with {@code rate_ci}. */
    static Interval rate(ThroughputRow row) {
        return new Interval(row.medianRate(), row.rateCi().low(), row.rateCi().high(), row.confidenceLevel());
    }

    /** Median paired speedup over the record's reference ({@code speedup.median}) with {@code speedup_ci}. */
    static Interval speedup(ThroughputRow row) {
        return new Interval(row.medianSpeedup(), row.speedupCi().low(), row.speedupCi().high(),
                row.confidenceLevel());
    }

    /** Median of the per-round fractions of the probe's bandwidth; NaN when not measured. */
    static double fractionOfBandwidth(ThroughputRow row) {
        return row.fractionOfBandwidth() == null ? Double.NaN : row.fractionOfBandwidth().median();
    }

    static boolean isTokensPerSecond(ThroughputRow row) {
        return "tokens/s".equals(row.unit());
    }

    /**
     * A decode from an empty cache ({@code tg128}); a decode after a prompt ({@code tg128@d1536}, {@code --depth}) reads
     * a cache as large again as its depth and is another figure: the report's decode column and charts leave it out
     * rather than mix the two.
     */
    static boolean isDecode(ThroughputRow row) {
        return "decode".equals(row.level()) && (row.label() == null || !row.label().contains("@d"));
    }

    static boolean isPrefill(ThroughputRow row) {
        return "prefill".equals(row.level());
    }

    static boolean isKernel(ThroughputRow row) {
        return "kernel".equals(row.level());
    }
}
