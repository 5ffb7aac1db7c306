package io.quantgate.harness;

import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.kernels.nativeimpl.WeightArena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A buffer read by the native STREAM-like kernel, measured in the same rounds as the kernels or models it
 * is compared with, so that "fraction of memory bandwidth" is a ratio of neighbouring measurements. The
 * buffer is filled with non-zero data (a zero page would be served without touching DRAM) and read in four
 * rotating slices, each a quarter of the buffer.
 */
public final class BandwidthProbe implements AutoCloseable {
    // on huge pages where the system has them, as the models' weights (WeightArena): the ceiling is what the best
    // memory the subjects get can deliver, not a slower one that would flatter them
    private final Arena arena = WeightArena.ofShared();
    private final MemorySegment buffer;
    private final long slice;
    private long sink;

    /** @param bytes buffer size; at least 4 × the last-level cache keeps each slice out of the cache */
    public BandwidthProbe(long bytes) {
        long b = Math.max(4L << 20, bytes) & ~((4L << 20) - 1); // whole MiB-aligned slices
        this.buffer = arena.allocate(b, 4096);
        for (long i = 0; i < b / 8; i++) {
            buffer.setAtIndex(ValueLayout.JAVA_LONG, i, i * 0x9E3779B97F4A7C15L + 1);
        }
        this.slice = b / 4;
    }

    /** Bytes one {@link #read(int)} reads. */
    public long bytesPerRead() {
        return slice;
    }

    public void read(int round) {
        sink += NativeKernels.streamRead(buffer.asSlice((round & 3) * slice, slice), slice);
    }

    /** Keeps the reads observable (the checksum is never used otherwise). */
    public long checksum() {
        return sink;
    }

    @Override
    public void close() {
        arena.close();
    }
}
