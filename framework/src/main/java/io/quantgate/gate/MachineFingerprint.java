package io.quantgate.gate;

import io.quantgate.harness.MachineInfo;
import io.quantgate.kernels.nativeimpl.NativeKernels;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a stored speed baseline is only valid on (SPEC §5): CPU model, cores, SIMD flags, the kernel tier and
 * thread count actually used, JVM and OS. Two runs compare timings only when their fingerprints are equal.
 * (No GPU backend exists yet; when one does, its driver and clocks join the fingerprint.)
 *
 * @param cpu     CPU model name
 * @param cores   available processors
 * @param simd    SIMD flags relevant to the kernels, sorted
 * @param isa     kernel tier in use (scalar, avx2, avx512, avx512bf16, neon)
 * @param threads kernel threads in use
 * @param jvm     VM name and runtime version
 * @param os      OS name and architecture (not the kernel version, which changes with every patch)
 */
public record MachineFingerprint(String cpu, int cores, List<String> simd, String isa, int threads, String jvm,
                                 String os) {

    public MachineFingerprint {
        Objects.requireNonNull(cpu, "cpu");
        simd = List.copyOf(simd);
        Objects.requireNonNull(isa, "isa");
        Objects.requireNonNull(jvm, "jvm");
        Objects.requireNonNull(os, "os");
    }

    /** This machine, as the kernels run on it now. */
    public static MachineFingerprint current() {
        return new MachineFingerprint(MachineInfo.cpuModel(), Runtime.getRuntime().availableProcessors(),
                MachineInfo.simdFlags(), NativeKernels.isa().id(), NativeKernels.threads(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    }

    /** Short stable id: the first 16 hex digits of the SHA-256 of the canonical fields. */
    public String id() {
        String canonical = String.join("\n", cpu, Integer.toString(cores), String.join(",", simd), isa,
                Integer.toString(threads), jvm, os);
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** Field by field what differs, e.g. {@code cpu: "AMD EPYC" here, "Intel Xeon" there}. */
    public List<String> differencesFrom(MachineFingerprint other) {
        List<String> d = new ArrayList<>();
        Map<String, Object> a = toMap();
        Map<String, Object> b = other.toMap();
        for (String k : a.keySet()) {
            if (!Objects.equals(a.get(k), b.get(k))) {
                d.add(k + ": " + a.get(k) + " here, " + b.get(k) + " there");
            }
        }
        return d;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpu);
        m.put("cores", cores);
        m.put("simd", simd);
        m.put("isa", isa);
        m.put("threads", threads);
        m.put("jvm", jvm);
        m.put("os", os);
        return m;
    }
}
