package io.quantgate.results.model;

import java.util.Map;

/**
 * The calibration a quantized configuration was fitted on (absent for round-to-nearest configs).
 *
 * @param method              {@code gptq}, {@code gptq+act}, {@code imatrix}, {@code mixed:auto/kld}, ... (several
 *                            joined by {@code ,} for a mixed config)
 * @param dataset             the calibration text file's name
 * @param datasetSha256       its SHA-256
 * @param tokens              tokens run ({@code chunks·ctx})
 * @param chunks              chunks of {@code ctx} tokens drawn from the file
 * @param ctx                 tokens per chunk
 * @param seed                the seed of the draw
 * @param assignment          for {@code mixed:auto}: tensor → chosen id; null otherwise
 * @param bitsPerWeight       for {@code mixed:auto}: the average bits per linear weight the assignment reaches
 * @param budgetBitsPerWeight for {@code mixed:auto}: the budget in bits per weight
 */
public record Calibration(String method, String dataset, String datasetSha256, Long tokens, Integer chunks,
                          Integer ctx, Long seed, Map<String, String> assignment, Double bitsPerWeight,
                          Double budgetBitsPerWeight) {
    public Calibration {
        assignment = assignment == null ? null : java.util.Collections.unmodifiableMap(
                new java.util.LinkedHashMap<>(assignment));
    }
}
