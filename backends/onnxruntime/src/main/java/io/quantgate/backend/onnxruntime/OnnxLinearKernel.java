package io.quantgate.backend.onnxruntime;

import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.PreparedLinear;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * {@code onnxruntime}: ONNX Runtime's CPU MatMulNBits (int4, int4s, int8 on QuantGate's own codes, bit-exact) and
 * MatMul (fp32, fp16) as a linear kernel, so {@code quantgate bench kernels --kernel onnxruntime} times it against the
 * native kernels on the very same weights, through the same harness. Activations: int8 → MatMulNBits accuracy_level 4
 * (int8 A), fp32 → accuracy_level 1. ONNX Runtime gets as many intra-op threads as the native kernels use.
 */
public final class OnnxLinearKernel implements LinearKernel {
    public static final String NAME = "onnxruntime";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "ONNX Runtime 1.29.0 (CPU) MatMulNBits / MatMul, " + NativeKernels.threads() + " intra-op threads";
    }

    @Override
    public Optional<String> unavailableReason() {
        return OnnxRuntimeBackend.load();
    }

    @Override
    public Optional<String> cannotRun(ConfigId config, ActivationMode activations, int n, int k) {
        return OnnxLinear.cannotRun(config, k);
    }

    @Override
    public PreparedLinear prepare(QuantizedMatrix weights, ActivationMode activations) {
        int accuracy = activations == ActivationMode.INT8 ? 4 : 1;
        OnnxLinear linear = new OnnxLinear(weights, accuracy, NativeKernels.threads());
        return new PreparedLinear() {
            @Override
            public String describe() {
                return linear.describe();
            }

            @Override
            public long preparedBytes() {
                // MatMulNBits holds the same codes with fp32 scales (QuantGate's are fp16) and packed zero points
                return linear.weightBytes();
            }

            @Override
            public void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
                linear.gemm(x, m, ldx, y, ldy);
            }

            @Override
            public void close() {
                linear.close();
            }
        };
    }
}
