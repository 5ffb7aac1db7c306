package io.quantgate.reports;

import java.nio.file.Path;

/**
 * One record of a results file: one configuration on one backend of one test, as the report needs it.
 * Measurement parts are null when the record does not have them (a throughput-only test has no perplexity; a
 * measurement that failed has neither and carries {@code error}).
 *
 * @param file               the results file it came from
 * @param index              its position in that file's {@code results} array
 * @param compression        fp16 bytes / packed bytes of the model's linears; NaN when no model variant was built
 * @param calibrationDataset the dataset a calibrated configuration was fitted on; null for every record of schema
 *                           {@code quantgate-results/1} today, read from {@code calibration} (a string or an
 *                           object with {@code dataset}) so that a writer adding it needs no change here
 */
public record BenchmarkRecord(Path file, int index, String test, String config, String format, Integer group,
                              String baseline, String backend, String activations, Inputs inputs,
                              double compression, Long weightBytesPerToken, PerplexityFigures perplexity,
                              ThroughputFigures throughput, String verdict, Fingerprint fingerprint, String error,
                              String status, String statusMessage, String calibrationDataset) {

    /**
     * The name a person knows the model by: the file name of a model path, the spec of synthetic weights as
     * written ({@code synthetic:llama-1b}).
     */
    public String modelName() {
        String m = inputs == null ? null : inputs.model();
        if (m == null || m.isBlank()) {
            return "unknown model";
        }
        if (m.startsWith("synthetic:")) {
            return m;
        }
        int slash = Math.max(m.lastIndexOf('/'), m.lastIndexOf('\\'));
        return slash >= 0 ? m.substring(slash + 1) : m;
    }

    public String modelSha256() {
        return inputs == null ? null : inputs.modelSha256();
    }

    /** Where the record came from, for messages: {@code results.json#3 (Suite.table fp4-g32 on native)}. */
    public String describe() {
        return file.getFileName() + "#" + index + " (" + test + " " + config + " on " + backend + ")";
    }
}
