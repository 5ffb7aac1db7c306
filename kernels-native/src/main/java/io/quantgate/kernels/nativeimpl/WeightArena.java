package io.quantgate.kernels.nativeimpl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A shared arena for weights: every segment of at least {@link #MAPPED_MIN} bytes gets its own 2 MiB-aligned
 * anonymous mapping advised to transparent huge pages ({@code qg_pages_alloc}); smaller ones come from an ordinary
 * shared arena. Decode reads every weight once per token, and on 4 KiB pages that stream pays a TLB miss every
 * 4 KiB and restarts the hardware prefetchers at every page boundary: an int4s-g32 GEMV from DRAM took 0.72-0.83x
 * the time on huge pages (docs/kernels.md, "Weights on huge pages"). Where the system has no transparent huge pages
 * the mappings are ordinary memory; where a mapping fails the segment comes from the ordinary arena;
 * {@code -Dquantgate.hugePages=false} turns the mappings off.
 *
 * <p>Segments are zero-filled and live until {@link #close()}, which unmaps the mappings after their segments
 * became inaccessible. Allocation is thread-safe, as for {@link Arena#ofShared()}.
 */
public final class WeightArena implements Arena {
    /** Smaller segments gain nothing from huge pages (a 2 MiB page needs 2 MiB of aligned extent). */
    public static final long MAPPED_MIN = 1L << 20;
    private static final long MAPPING_ALIGNMENT = 2L << 20;

    /** {@code -Dquantgate.hugePages=false} keeps every segment in ordinary memory (to measure what the mappings give). */
    private static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("quantgate.hugePages", "true").trim());

    private final Arena ordinary = Arena.ofShared();
    /** A qg_pages_alloc mapping: its start (a zero-length segment) and the byte count it was asked for. */
    private record Mapping(MemorySegment start, long bytes) {
    }

    private final List<Mapping> mappings = new ArrayList<>();

    private WeightArena() {
    }

    public static WeightArena ofShared() {
        return new WeightArena();
    }

    @Override
    public synchronized MemorySegment allocate(long byteSize, long byteAlignment) {
        if (!ENABLED || byteSize < MAPPED_MIN || byteAlignment <= 0 || byteAlignment > MAPPING_ALIGNMENT
                || Long.bitCount(byteAlignment) != 1 || !ordinary.scope().isAlive()) {
            return ordinary.allocate(byteSize, byteAlignment); // its checks and its messages
        }
        MemorySegment mapping = NativeKernels.allocatePages(byteSize);
        if (mapping.equals(MemorySegment.NULL)) {
            return ordinary.allocate(byteSize, byteAlignment);
        }
        mappings.add(new Mapping(mapping, byteSize));
        // the segment lives in the ordinary arena's scope: closing it makes every segment inaccessible at once
        return mapping.reinterpret(byteSize, ordinary, null);
    }

    /** Whether large segments go to huge-page-advised mappings ({@code quantgate.hugePages}, default true). */
    public static boolean enabled() {
        return ENABLED;
    }

    /** Bytes held in huge-page-advised mappings (the rest is ordinary memory). */
    public synchronized long mappedBytes() {
        return mappings.stream().mapToLong(Mapping::bytes).sum();
    }

    @Override
    public MemorySegment.Scope scope() {
        return ordinary.scope();
    }

    @Override
    public synchronized void close() {
        ordinary.close(); // throws if already closed; afterwards no segment of this arena can be accessed
        for (Mapping m : mappings) {
            NativeKernels.freePages(m.start(), m.bytes());
        }
        mappings.clear();
    }
}
