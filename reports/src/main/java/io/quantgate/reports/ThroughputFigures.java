package io.quantgate.reports;

import java.util.List;

/** The throughput part of a record: its sampling plan and its rows ({@code throughput} in the schema). */
public record ThroughputFigures(String level, String reference, String activations, Integer warmup,
                               Integer iterations, double maxSeconds, double outlierSigma, int remeasures,
                               List<ThroughputRow> rows) {
}
