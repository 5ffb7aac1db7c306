package io.quantgate.results.model;

import java.util.List;

/**
 * The machine a results file was written on: CPU model, cores, the SIMD flags that matter to the kernels, the
 * last-level cache, the kernel tier and threads in use, JVM and OS.
 */
public record Machine(String cpu, Integer cores, List<String> simd, Long llcBytes, String isa, Integer threads,
                      String jvm, String os) {
    public Machine {
        simd = simd == null ? List.of() : List.copyOf(simd);
    }

    /** One line for reports. */
    public String describe() {
        return (cpu == null ? "unknown CPU" : cpu) + ", " + (cores == null ? "?" : cores) + " cores, kernels "
                + (isa == null ? "?" : isa) + " × " + (threads == null ? "?" : threads) + " threads, "
                + (jvm == null ? "unknown JVM" : jvm) + ", " + (os == null ? "unknown OS" : os);
    }
}
