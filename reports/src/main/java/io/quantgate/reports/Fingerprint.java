package io.quantgate.reports;

import java.util.List;

/** The machine a record was measured on ({@code fingerprint}); {@code id} identifies it across files. */
public record Fingerprint(String id, String cpu, Integer cores, List<String> simd, String isa, Integer threads,
                          String jvm, String os) {

    public String describe() {
        return (cpu == null ? "unknown CPU" : cpu) + ", " + (cores == null ? "?" : cores) + " cores, kernels "
                + (isa == null ? "?" : isa) + " × " + (threads == null ? "?" : threads) + " threads, "
                + (jvm == null ? "unknown JVM" : jvm) + ", " + (os == null ? "unknown OS" : os);
    }
}
