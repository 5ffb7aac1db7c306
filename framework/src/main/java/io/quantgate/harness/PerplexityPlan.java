package io.quantgate.harness;

import io.quantgate.evaluation.PerplexityOptions;

import java.util.Objects;

/**
 * A perplexity comparison: the subject against the baseline on the same chunks (llama.cpp's method, SPEC §3).
 *
 * @param options   ctx, mode, stride, BOS, confidence level and progress of the evaluation
 * @param chunks    chunks (windows) of the first measurement; 0 = every chunk the text holds (then nothing is re-measured)
 * @param maxChunks the most an inconclusive gate may grow it to by doubling
 */
public record PerplexityPlan(Subject subject, Subject baseline, PerplexityOptions options, int chunks, int maxChunks) {
    public PerplexityPlan {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(baseline, "baseline");
        Objects.requireNonNull(options, "options");
        if (subject.isKernel() || baseline.isKernel()) {
            throw new IllegalArgumentException("perplexity runs a whole model: name engines, not kernels");
        }
        if (chunks < 0 || maxChunks < chunks) {
            throw new IllegalArgumentException("chunks must be >= 0 and maxChunks >= chunks, got " + chunks + " and "
                    + maxChunks);
        }
    }
}
