package io.quantgate.harness;

import io.quantgate.kernels.nativeimpl.NativeKernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/** What a measurement ran on: read from /proc and /sys where present, so results can be compared honestly. */
public final class MachineInfo {
    private MachineInfo() {}

    public static String cpuModel() {
        return procCpuField("model name").orElse(System.getProperty("os.arch"));
    }

    /** SIMD flags that matter to the kernels, sorted. */
    public static List<String> simdFlags() {
        String flags = procCpuField("flags").orElse("");
        TreeSet<String> out = new TreeSet<>();
        for (String f : flags.split("\\s+")) {
            if (f.startsWith("avx") || f.equals("fma") || f.equals("f16c") || f.startsWith("amx") || f.equals("sse4_2")) {
                out.add(f);
            }
        }
        return List.copyOf(out);
    }

    /** Size of the last-level cache in bytes (largest cache index of cpu0), or 32 MiB when unknown. */
    public static long lastLevelCacheBytes() {
        long best = 0;
        for (int i = 0; i < 8; i++) {
            Path p = Path.of("/sys/devices/system/cpu/cpu0/cache/index" + i + "/size");
            try {
                String s = Files.readString(p).trim().toUpperCase(Locale.ROOT);
                long mul = s.endsWith("K") ? 1024 : s.endsWith("M") ? 1024 * 1024 : 1;
                long v = Long.parseLong(s.replaceAll("[^0-9]", "")) * mul;
                best = Math.max(best, v);
            } catch (IOException | NumberFormatException e) {
                // index absent: keep what we have
            }
        }
        return best > 0 ? best : 32L << 20;
    }

    /** This machine as results files describe it. */
    public static io.quantgate.results.model.Machine machine() {
        return new io.quantgate.results.model.Machine(cpuModel(), Runtime.getRuntime().availableProcessors(),
                simdFlags(), lastLevelCacheBytes(), NativeKernels.isa().id(), NativeKernels.threads(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"));
    }

    public static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("simd", simdFlags());
        m.put("llc_bytes", lastLevelCacheBytes());
        m.put("isa", NativeKernels.isa().id());
        m.put("threads", NativeKernels.threads());
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        return m;
    }

    private static java.util.Optional<String> procCpuField(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(name)) {
                    return java.util.Optional.of(line.substring(colon + 1).trim());
                }
            }
        } catch (IOException e) {
            // not Linux: fall through
        }
        return java.util.Optional.empty();
    }
}
