package io.quantgate.backend.javavector;

import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.PreparedLinear;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;

/**
 * {@code java-vector}: the pure-JVM Vector API linear kernels of the {@code java} backend as a linear kernel of the
 * kernel SPI, the second provider beside {@code native}: {@code fp32}, {@code fp16}, {@code int8}, {@code int4},
 * {@code int4s} on QuantGate's own codes (read in place), fp32 activations. Needs
 * {@code --add-modules jdk.incubator.vector}.
 */
public final class JavaVectorLinearKernel implements LinearKernel {
    public static final String NAME = "java-vector";
    private static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors());

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "pure JVM Vector API kernels (" + Runtime.version() + ")";
    }

    @Override
    public Optional<String> unavailableReason() {
        return new JavaVectorBackend().unavailableReason();
    }

    @Override
    public Set<WeightFormat> formats() {
        return EnumSet.of(WeightFormat.FP32, WeightFormat.FP16, WeightFormat.INT8, WeightFormat.INT4,
                WeightFormat.INT4S);
    }

    @Override
    public Set<ActivationMode> activationModes() {
        return EnumSet.of(ActivationMode.FP32);
    }

    @Override
    public PreparedLinear prepare(QuantizedMatrix weights, ActivationMode activations) {
        VectorLinear linear = new VectorLinear(weights);
        int n = weights.rows(), k = weights.cols();
        return new PreparedLinear() {
            @Override
            public String describe() {
                return "java-vector " + weights.config() + ", fp32 activations (QuantGate's packing, read in place)";
            }

            @Override
            public long preparedBytes() {
                return linear.packedBytes();
            }

            @Override
            public void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
                float[] xs = new float[m * k];
                for (int i = 0; i < m; i++) {
                    MemorySegment.copy(x, ValueLayout.JAVA_FLOAT, 4L * i * ldx, xs, i * k, k);
                }
                float[] ys = new float[m * n];
                linear.gemm(xs, m, ys, POOL);
                for (int i = 0; i < m; i++) {
                    MemorySegment.copy(ys, i * n, y, ValueLayout.JAVA_FLOAT, 4L * i * ldy, n);
                }
            }

            @Override
            public void close() {
                // nothing off-heap of its own
            }
        };
    }
}
