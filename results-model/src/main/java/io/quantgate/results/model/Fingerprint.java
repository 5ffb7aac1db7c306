package io.quantgate.results.model;

import java.util.List;

/**
 * The machine a record was measured on, as stored baselines key it; {@code id} (16 hex digits of a SHA-256 of the
 * other fields) identifies it across files.
 */
public record Fingerprint(String cpu, Integer cores, List<String> simd, String isa, Integer threads, String jvm,
                          String os, String id) {
    public Fingerprint {
        simd = simd == null ? List.of() : List.copyOf(simd);
    }

    /** One line for reports: CPU, cores, kernel tier × threads, JVM, OS. */
    public String describe() {
        return (cpu == null ? "unknown CPU" : cpu) + ", " + (cores == null ? "?" : cores) + " cores, kernels "
                + (isa == null ? "?" : isa) + " × " + (threads == null ? "?" : threads) + " threads, "
                + (jvm == null ? "unknown JVM" : jvm) + ", " + (os == null ? "unknown OS" : os);
    }
}
