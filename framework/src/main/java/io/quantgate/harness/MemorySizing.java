package io.quantgate.harness;

/**
 * The one sizing rule for memory-bound measurements, so that every entry point means the same thing by "from DRAM":
 * <ul>
 *   <li>kernel weights: every kernel subject rotates over copies of its weights totalling at least
 *       {@code workingSetBytes} (default 4 × the last-level cache), so no call finds its weights in the cache;</li>
 *   <li>the bandwidth probe reads a buffer of {@code probeBytes} (default the larger of 4 × the last-level cache and
 *       256 MiB) in four rotating slices, each at least as large as the last-level cache.</li>
 * </ul>
 * Overrides: {@code -Dquantgate.workingset.mb} / {@code -Dquantgate.probe.mb} (JUnit configuration parameters or
 * system properties) and {@code --working-set-mb} / {@code --probe-mb} on the bench commands.
 */
public record MemorySizing(long workingSetBytes, long probeBytes) {
    /** Smallest default probe: on a machine with a small cache the probe still reads well past it. */
    public static final long MIN_PROBE_BYTES = 256L << 20;

    public MemorySizing {
        if (workingSetBytes < 1 || probeBytes < 1) {
            throw new IllegalArgumentException("working set and probe sizes must be positive, got " + workingSetBytes
                    + " and " + probeBytes);
        }
    }

    /** The default rule on this machine. */
    public static MemorySizing defaults() {
        long llc4 = 4 * MachineInfo.lastLevelCacheBytes();
        return new MemorySizing(llc4, Math.max(MIN_PROBE_BYTES, llc4));
    }

    /** The default rule with either size overridden (in MiB; absent when null). */
    public static MemorySizing of(Integer workingSetMb, Integer probeMb) {
        MemorySizing d = defaults();
        return new MemorySizing(workingSetMb == null ? d.workingSetBytes : (long) workingSetMb << 20,
                probeMb == null ? d.probeBytes : (long) probeMb << 20);
    }
}
