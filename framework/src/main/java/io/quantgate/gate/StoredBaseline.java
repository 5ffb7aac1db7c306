package io.quantgate.gate;

import java.util.Objects;

/**
 * One stored speed baseline: the raw per-round rates of a measurement, what they measured ({@link Key}) and
 * where ({@link MachineFingerprint}).
 *
 * @param key         what was measured
 * @param fingerprint the machine it was measured on
 * @param samples     raw rates, every measured round (higher is better)
 * @param unit        unit of the rates
 * @param recordedAt  ISO-8601 instant
 * @param version     QuantGate version that recorded it
 * @param test        the test that recorded it ({@code class#method}), for people reading the file
 */
public record StoredBaseline(Key key, MachineFingerprint fingerprint, double[] samples, String unit, String recordedAt,
                             String version, String test) {

    /**
     * What a baseline is of. Hashes are SHA-256 hex of the files (of the spec text for synthetic weights);
     * null where the measurement does not read that input.
     */
    public record Key(String modelSha256, String tokenizerSha256, String dataSha256, String config, String backend,
                      String level, String label, String activations) {
        public Key {
            Objects.requireNonNull(modelSha256, "modelSha256");
            Objects.requireNonNull(config, "config");
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(level, "level");
            Objects.requireNonNull(label, "label");
            Objects.requireNonNull(activations, "activations");
        }
    }
}
