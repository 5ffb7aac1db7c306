package io.quantgate.reports;

import org.knowm.xchart.internal.chartpart.Chart;

/**
 * One of the report's charts: built from the results ({@link #chart} non-null), or not drawn with the reason the
 * report shows instead ("needs tokens/s from at least two backends"): an empty image would only mislead.
 *
 * @param file    PNG file name in the output directory
 * @param caption what the chart shows, for the report
 */
public record ChartOutcome(String file, String title, Chart<?, ?> chart, String reason, String caption) {

    public boolean drawn() {
        return chart != null;
    }

    static ChartOutcome skipped(String file, String title, String reason) {
        return new ChartOutcome(file, title, null, reason, null);
    }
}
