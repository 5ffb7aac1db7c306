package io.quantgate.junit;

import io.quantgate.harness.Sampling;
import io.quantgate.results.model.ThroughputRow;

import java.util.List;
import java.util.Objects;

/**
 * What one {@link Throughput} measurement of one configuration produced: a row per shape × batch (KERNEL)
 * or one row (PREFILL, DECODE), each with its raw per-round samples and statistics.
 *
 * @param level       the level measured
 * @param config      the configuration
 * @param reference   what speedups are taken against (measured in the same rounds)
 * @param activations fp32, int8 or bf16
 * @param plan        the sampling plan used (after configuration overrides)
 * @param rows        one per measured case, in order
 * @param remeasures  how many times an inconclusive gate added rounds
 */
public record ThroughputResult(Throughput.Level level, String config, String reference, String activations,
                               Sampling plan, List<ThroughputRow> rows, int remeasures) {

    public ThroughputResult {
        Objects.requireNonNull(level, "level");
        rows = List.copyOf(rows);
    }

    /** The only row; for PREFILL/DECODE measurements and single-shape kernels. */
    public ThroughputRow row() {
        if (rows.size() != 1) {
            throw new IllegalStateException(rows.size() + " rows were measured (" + labels()
                    + "); use rows() or row(label)");
        }
        return rows.get(0);
    }

    /** The row with this label, e.g. {@code "4096x4096 M=1"} or {@code "tg128"}. */
    public ThroughputRow row(String label) {
        for (ThroughputRow r : rows) {
            if (r.label().equals(label)) {
                return r;
            }
        }
        throw new IllegalArgumentException("no row '" + label + "' (rows: " + labels() + ")");
    }

    /** Median tokens/s of the only row (PREFILL/DECODE). */
    public double tokensPerSecond() {
        if (level == Throughput.Level.KERNEL) {
            throw new IllegalStateException("KERNEL level measures weight GB/s, not tokens/s");
        }
        return row().medianRate();
    }

    /** The smallest median paired speedup over the reference among the rows. */
    public double minSpeedup() {
        return rows.stream().mapToDouble(ThroughputRow::medianSpeedup).min().orElse(Double.NaN);
    }

    private String labels() {
        return String.join(", ", rows.stream().map(ThroughputRow::label).toList());
    }
}
