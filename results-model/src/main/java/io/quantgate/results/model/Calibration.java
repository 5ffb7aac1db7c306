package io.quantgate.results.model;

/**
 * The calibration a quantized configuration was fitted on (absent for round-to-nearest configs).
 *
 * @param method        e.g. {@code gptq}, {@code imatrix}
 * @param dataset       the calibration text file
 * @param datasetSha256 its SHA-256
 */
public record Calibration(String method, String dataset, String datasetSha256, Long tokens, Integer chunks,
                          Integer ctx, Long seed) {
}
