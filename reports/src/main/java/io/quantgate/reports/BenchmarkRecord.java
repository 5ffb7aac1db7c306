package io.quantgate.reports;

import io.quantgate.results.model.Inputs;
import io.quantgate.results.model.PerplexityRecord;
import io.quantgate.results.model.ResultRecord;
import io.quantgate.results.model.ThroughputRecord;

import java.nio.file.Path;

/**
 * A record of a results file with where it came from: the file and its position in that file's {@code results}
 * array, which the report's messages and CSV name. The figures are the results model's {@link ResultRecord}; the
 * helpers below are the parts the report reads on every record.
 *
 * @param file   the results file it came from
 * @param index  its position in that file's {@code results} array
 * @param record the record as results.json holds it
 */
public record BenchmarkRecord(Path file, int index, ResultRecord record) {

    public String config() {
        return record.config();
    }

    /**
     * The engine as tables show it: the backend, and the linear kernel it ran on when that was not its own
     * ({@code native / CKernel}), so a user's kernel never shares a row with QuantGate's.
     */
    public String backend() {
        String kernel = record.kernel();
        return kernel == null || kernel.isBlank() ? record.backend() : record.backend() + " / " + kernel;
    }

    /** {@code Class.method} of the test (or the command) that measured it; {@code ?} when unknown. */
    public String test() {
        return record.testName();
    }

    /** See {@link ResultRecord#modelName()}. */
    public String modelName() {
        return record.modelName();
    }

    /** What it was measured on; {@link Inputs#NONE} for a record whose measurement did not start. */
    public Inputs inputs() {
        return record.inputs() == null ? Inputs.NONE : record.inputs();
    }

    public String modelSha256() {
        return inputs().modelSha256();
    }

    /** The perplexity comparison; null when the record has none. */
    public PerplexityRecord perplexity() {
        return record.perplexity();
    }

    /** The throughput measurement; null when the record has none. */
    public ThroughputRecord throughput() {
        return record.throughput();
    }

    /** The dataset a calibrated configuration was fitted on ({@code calibration.dataset}); null without one. */
    public String calibrationDataset() {
        return record.calibration() == null ? null : record.calibration().dataset();
    }

    /** Where the record came from, for messages: {@code results.json#3 (Suite.table fp4-g32 on native)}. */
    public String describe() {
        return file.getFileName() + "#" + index + " (" + test() + " " + config() + " on " + backend() + ")";
    }
}
