package io.quantgate.quantize;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;

/**
 * What a calibration pass saw: the text it ran (file, SHA-256, tokens, chunks, ctx, seed — recorded in results so a
 * calibrated result can be reproduced) and, per {@link CalibrationSites site}, the Gram matrix of the inputs.
 *
 * @param file     the calibration text file
 * @param sha256   its SHA-256
 * @param tokens   tokens run ({@code chunks·ctx})
 * @param chunks   chunks of {@code ctx} tokens, drawn without replacement from the file's non-overlapping chunks
 * @param ctx      tokens per chunk
 * @param seed     the seed of that draw
 * @param grams    per site, {@code XᵀX} of its inputs
 * @param sample   the token chunks that were run (BOS first), for measurements that need calibration text again
 *                 ({@code mixed:auto}'s sensitivities)
 */
public record Calibration(Path file, String sha256, long tokens, int chunks, int ctx, long seed,
                          Map<String, Gram> grams, java.util.List<int[]> sample) {
    public Calibration {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(sha256, "sha256");
        grams = Collections.unmodifiableMap(new java.util.LinkedHashMap<>(grams));
        sample = java.util.List.copyOf(sample);
    }

    /** The Gram matrix of a tensor's inputs. */
    public Gram gram(String tensor) {
        Gram g = grams.get(CalibrationSites.of(tensor));
        if (g == null) {
            throw new IllegalArgumentException("the calibration on " + file + " saw no inputs of '" + tensor + "' (site "
                    + CalibrationSites.of(tensor) + ")");
        }
        return g;
    }

    /** The dataset name recorded in results: the file's name. */
    public String dataset() {
        return file.getFileName() == null ? file.toString() : file.getFileName().toString();
    }

    @Override
    public String toString() {
        return dataset() + " (" + chunks + " chunks of " + ctx + " tokens, seed " + seed + ", sha256 "
                + sha256.substring(0, Math.min(12, sha256.length())) + "…)";
    }
}
