package io.quantgate.kernel;

import java.lang.foreign.MemorySegment;

/**
 * One weight matrix prepared by a {@link LinearKernel}. Not thread-safe: one call at a time; but the kernel may use
 * its own threads inside a call, as the segments it is given (weights, x, y) are shared, never thread-confined. The
 * framework reaches it through
 * {@link Linear}, which has checked every argument before {@link #gemm} is called.
 */
public interface PreparedLinear extends AutoCloseable {

    /** What runs, e.g. {@code native avx512 int4-g128, int8 activations (QuantGate's packing, read in place)}. */
    String describe();

    /** Bytes the kernel reads per call for the weights in its own layout (codes, scales, zero points). */
    long preparedBytes();

    /**
     * {@code y = x · Wᵀ} for {@code m} rows: row {@code i} of {@code x} holds {@code K} fp32 values at float offset
     * {@code i·ldx}; row {@code i} of the result goes to {@code y} at float offset {@code i·ldy} ({@code N} values).
     * Everything else in {@code y} stays as it was. Sizes and bounds are checked by the caller.
     */
    void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy);

    @Override
    void close();
}
