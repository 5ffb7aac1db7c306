package io.quantgate.results.model;

import java.util.List;

/**
 * The throughput part of a record: what was timed against what, the sampling plan, and one row per kernel shape ×
 * batch or one row per model workload.
 *
 * @param level        {@code kernel}, {@code prefill} or {@code decode}
 * @param reference    the configuration timed beside it in the same rounds (null without one)
 * @param activations  {@code fp32} or {@code int8}
 * @param remeasures   how often an inconclusive gate added rounds
 */
public record ThroughputRecord(String level, String config, String reference, String activations, int warmup,
                               int iterations, double maxSeconds, double outlierSigma, int remeasures,
                               List<ThroughputRow> rows) {
    public ThroughputRecord {
        rows = rows == null ? List.of() : List.copyOf(rows);
    }
}
