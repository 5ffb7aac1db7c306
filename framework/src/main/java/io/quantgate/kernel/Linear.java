package io.quantgate.kernel;

import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Objects;

/**
 * A weight matrix prepared by a kernel, as the framework calls it: every size, leading dimension and segment bound is
 * checked here before the kernel (which may be native code, or another process) sees the call, so a wrong call is an
 * exception naming what is wrong, never a crash or a silent wrong number.
 */
public final class Linear implements AutoCloseable {
    private final LinearKernel kernel;
    private final QuantizedMatrix weights;
    private final ActivationMode activations;
    private final PreparedLinear prepared;

    private Linear(LinearKernel kernel, QuantizedMatrix weights, ActivationMode activations, PreparedLinear prepared) {
        this.kernel = kernel;
        this.weights = weights;
        this.activations = activations;
        this.prepared = prepared;
    }

    /**
     * {@code weights} prepared by {@code kernel} with {@code activations} (fp32 for dense weights whatever is asked).
     *
     * @throws IllegalArgumentException when the kernel cannot run the weights, with its reason
     */
    public static Linear prepare(LinearKernel kernel, QuantizedMatrix weights, ActivationMode activations) {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(weights, "weights");
        ActivationMode act = weights.format().isQuantized() ? activations : ActivationMode.FP32;
        kernel.cannotRun(weights.config(), act, weights.rows(), weights.cols()).ifPresent(why -> {
            throw new IllegalArgumentException("kernel '" + kernel.name() + "' cannot run " + weights.config() + " ["
                    + weights.rows() + " × " + weights.cols() + "] with " + act.name().toLowerCase(Locale.ROOT)
                    + " activations: " + why);
        });
        PreparedLinear p = kernel.prepare(weights, act);
        if (p == null) {
            throw new IllegalStateException("kernel '" + kernel.name() + "' prepared nothing for " + weights.config());
        }
        return new Linear(kernel, weights, act, p);
    }

    public QuantizedMatrix weights() {
        return weights;
    }

    public ActivationMode activations() {
        return activations;
    }

    public LinearKernel kernel() {
        return kernel;
    }

    public String describe() {
        return prepared.describe();
    }

    public long preparedBytes() {
        return prepared.preparedBytes();
    }

    /** {@code y = x · Wᵀ} with packed rows ({@code ldx = K}, {@code ldy = N}). */
    public void gemm(MemorySegment x, int m, MemorySegment y) {
        gemm(x, m, weights.cols(), y, weights.rows());
    }

    /** {@code y = x · Wᵀ} for {@code m} rows with leading dimensions (in floats). */
    public void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        int n = weights.rows();
        int k = weights.cols();
        weights.checkGemmShape(m, ldx, ldy);
        long needX = ((m - 1L) * ldx + k) * Float.BYTES;
        long needY = ((m - 1L) * ldy + n) * Float.BYTES;
        if (x.byteSize() < needX) {
            throw new IllegalArgumentException("x holds " + x.byteSize() + " bytes, " + m + " rows of ldx=" + ldx
                    + " with K=" + k + " need " + needX);
        }
        if (y.byteSize() < needY) {
            throw new IllegalArgumentException("y holds " + y.byteSize() + " bytes, " + m + " rows of ldy=" + ldy
                    + " with N=" + n + " need " + needY);
        }
        if (!x.isNative() || !y.isNative()) {
            throw new IllegalArgumentException("x and y must be native (off-heap) memory");
        }
        if (x.address() % Float.BYTES != 0 || y.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException("x and y must be 4-byte aligned");
        }
        prepared.gemm(x, m, ldx, y, ldy);
    }

    @Override
    public void close() {
        prepared.close();
    }
}
