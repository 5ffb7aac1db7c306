package io.quantgate.kernel;

import java.lang.foreign.MemorySegment;

/** One weight matrix prepared by a {@link LinearKernel}. Not thread-safe. */
public interface PreparedLinear extends AutoCloseable {

    /** What runs, e.g. {@code native avx512 int4-g128, int8 activations (QuantGate's packing, read in place)}. */
    String describe();

    /** Bytes the kernel reads per call for the weights in its own layout (codes, scales, zero points). */
    long preparedBytes();

    /**
     * {@code y = x · Wᵀ} for {@code m} rows: {@code x} holds {@code m × K} fp32 values (row-major, 64-byte aligned),
     * {@code y} receives {@code m × N} fp32 values. Sizes are checked by the caller.
     */
    void gemm(MemorySegment x, int m, MemorySegment y);

    @Override
    void close();
}
