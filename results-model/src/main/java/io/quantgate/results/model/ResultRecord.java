package io.quantgate.results.model;

import java.util.List;

/**
 * One configuration on one backend of one test (or one cell of a bench command): what was measured, on what, and the
 * verdict. Measurement parts are null when the record does not have them (a throughput-only test has no perplexity;
 * a measurement that did not complete has neither and carries {@code error}).
 *
 * @param test                  where it was measured (a JUnit invocation or a command)
 * @param config                the configuration as written ({@code fp4-g128}, {@code mixed:...})
 * @param configFormat          {@code fp4}, {@code int4}, …, or {@code mixed}
 * @param configGroup           group size of a uniform grouped config, null for per-row or mixed
 * @param baselineConfig        what perplexity was compared with
 * @param backend               the engine that ran it ({@code native}, {@code llamacpp}, …)
 * @param kernel                the linear kernel the engine ran, when it is not the engine's own (null otherwise)
 * @param ran                   exactly what the engine ran (format, file, activations), as its plan describes it
 * @param activations           {@code fp32} or {@code int8}
 * @param compressionRatio      fp16 bytes of the model's linears over their packed bytes (NaN without a model)
 * @param weightBytesPerToken   bytes of weights a decode step reads (null without a model)
 * @param verdict               {@code PASS}, {@code FAIL}, {@code INCONCLUSIVE}, or null without gates
 * @param error                 {@code Type: message} when the measurement did not complete
 * @param status                {@code SUCCESSFUL}, {@code FAILED} or {@code ABORTED}
 * @param statusMessage         message of the failure or abort
 * @param finishedAt            when the test (or command cell) finished
 * @param calibration           the calibration a calibrated config was fitted on (null for round-to-nearest)
 */
public record ResultRecord(TestInfo test, String config, String configFormat, Integer configGroup,
                           String baselineConfig, String backend, String kernel, String ran, String activations,
                           Inputs inputs, double compressionRatio, Long weightBytesPerToken,
                           PerplexityRecord perplexity, ThroughputRecord throughput, List<GateRecord> gates,
                           String verdict, Fingerprint fingerprint, String measurementStartedAt,
                           String measurementFinishedAt, String error, String status, String statusMessage,
                           String finishedAt, Calibration calibration) {

    public ResultRecord {
        gates = gates == null ? List.of() : List.copyOf(gates);
    }

    /** The same record with the test's outcome. */
    public ResultRecord withOutcome(String newStatus, String newStatusMessage, String newFinishedAt) {
        return new ResultRecord(test, config, configFormat, configGroup, baselineConfig, backend, kernel, ran,
                activations, inputs, compressionRatio, weightBytesPerToken, perplexity, throughput, gates, verdict,
                fingerprint, measurementStartedAt, measurementFinishedAt, error, newStatus, newStatusMessage,
                newFinishedAt, calibration);
    }

    /** The same record with {@code ran} (what the engine ran, or why it did not). */
    public ResultRecord withRan(String newRan) {
        return new ResultRecord(test, config, configFormat, configGroup, baselineConfig, backend, kernel, newRan,
                activations, inputs, compressionRatio, weightBytesPerToken, perplexity, throughput, gates, verdict,
                fingerprint, measurementStartedAt, measurementFinishedAt, error, status, statusMessage, finishedAt,
                calibration);
    }

    /** The same record attributed to another test (a JUnit invocation's record, once JUnit names it). */
    public ResultRecord withTest(TestInfo newTest) {
        return new ResultRecord(newTest, config, configFormat, configGroup, baselineConfig, backend, kernel, ran,
                activations, inputs, compressionRatio, weightBytesPerToken, perplexity, throughput, gates, verdict,
                fingerprint, measurementStartedAt, measurementFinishedAt, error, status, statusMessage, finishedAt,
                calibration);
    }

    /**
     * The name a person knows the model by: the file name of a model path, the spec of synthetic weights as written
     * ({@code synthetic:llama-1b}).
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

    /** {@code Class.method} of the test, or the command, that measured it ({@code ?} when unknown). */
    public String testName() {
        return test == null || test.name() == null ? "?" : test.name();
    }
}
