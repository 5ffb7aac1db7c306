package io.quantgate.junit;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.gate.GateResult;
import io.quantgate.gate.Verdict;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything one {@link QuantTest} invocation measured for one configuration: its inputs (pinned by
 * SHA-256), the perplexity comparison with the baseline, the throughput rows, and every gate's verdict.
 * Inject it as a test method parameter.
 */
public final class QuantResult {

    /**
     * The inputs of a measurement and their SHA-256 (of the file bytes; of the spec text for synthetic
     * weights). Tokenizer and dataset fields are null when the measurement did not read them.
     */
    public record Inputs(String model, String modelSha256, String architecture, String tokenizer,
                         String tokenizerSha256, String dataset, String datasetSha256, int datasetTokens) {
    }

    private final String testName;
    private final String config;
    private final String baselineConfig;
    private final String backend;
    private final String kernel;
    private final String ran;
    private final String activations;
    private final Inputs inputs;
    private final double compressionRatio;
    private final long weightBytesPerToken;
    private final ComparisonResult perplexity;
    private final int perplexityRemeasures;
    private final ThroughputResult throughput;
    private final List<GateResult> gates;
    private final Instant startedAt;
    private final Instant finishedAt;

    QuantResult(String testName, String config, String baselineConfig, String backend, String kernel, String ran,
                String activations, Inputs inputs,
                double compressionRatio, long weightBytesPerToken, ComparisonResult perplexity, int perplexityRemeasures,
                ThroughputResult throughput, List<GateResult> gates, Instant startedAt, Instant finishedAt) {
        this.testName = testName;
        this.config = Objects.requireNonNull(config);
        this.baselineConfig = baselineConfig;
        this.backend = backend;
        this.kernel = kernel;
        this.ran = ran;
        this.activations = activations;
        this.inputs = inputs;
        this.compressionRatio = compressionRatio;
        this.weightBytesPerToken = weightBytesPerToken;
        this.perplexity = perplexity;
        this.perplexityRemeasures = perplexityRemeasures;
        this.throughput = throughput;
        this.gates = List.copyOf(gates);
        this.startedAt = startedAt;
        this.finishedAt = finishedAt;
    }

    /** {@code Class.method} of the test that measured it. */
    public String testName() {
        return testName;
    }

    /** The configuration measured, as written in {@link QuantConfig}. */
    public String config() {
        return config;
    }

    /** The {@link QuantBench#baseline()} perplexity was compared with. */
    public String baselineConfig() {
        return baselineConfig;
    }

    public String backend() {
        return backend;
    }

    /** The linear kernel under test ({@link Kernel}), or null when the engine ran its own. */
    public String kernel() {
        return kernel;
    }

    /** Exactly what the engine ran (format, file, activations), as its plan describes it. */
    public String ran() {
        return ran;
    }

    public String activations() {
        return activations;
    }

    public Inputs inputs() {
        return inputs;
    }

    /**
     * fp16 bytes of the model's linears over their packed bytes (SPEC §1); NaN when no model variant was
     * built (a KERNEL-only measurement).
     */
    public double compressionRatio() {
        return compressionRatio;
    }

    /** Bytes of weights one decode step reads; -1 when no model variant was built. */
    public long weightBytesPerToken() {
        return weightBytesPerToken;
    }

    /** The paired comparison with the baseline, when the test has {@link Perplexity}. */
    public Optional<ComparisonResult> perplexity() {
        return Optional.ofNullable(perplexity);
    }

    /** The quantized model's own perplexity result, when the test has {@link Perplexity}. */
    public Optional<PerplexityResult> quantPerplexity() {
        return perplexity().map(ComparisonResult::quant);
    }

    /** How many times an inconclusive quality gate re-ran with more chunks. */
    public int perplexityRemeasures() {
        return perplexityRemeasures;
    }

    /** Throughput rows, when the test has {@link Throughput}. */
    public Optional<ThroughputResult> throughput() {
        return Optional.ofNullable(throughput);
    }

    /** Every gate that was on, in evaluation order (quality first, then speed). */
    public List<GateResult> gates() {
        return gates;
    }

    /** All gates together ({@link Verdict#combine}); empty when no gate was on. */
    public Optional<Verdict> verdict() {
        return gates.isEmpty() ? Optional.empty() : Optional.of(Verdict.combine(gates));
    }

    public Instant startedAt() {
        return startedAt;
    }

    public Instant finishedAt() {
        return finishedAt;
    }

    @Override
    public String toString() {
        return "QuantResult[" + config + " on " + backend + (perplexity != null ? ", " + perplexity.summary() : "")
                + (throughput != null ? ", " + throughput.rows().size() + " throughput rows" : "")
                + verdict().map(v -> ", " + v).orElse("") + "]";
    }
}
