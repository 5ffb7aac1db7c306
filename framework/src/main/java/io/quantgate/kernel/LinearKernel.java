package io.quantgate.kernel;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.util.Optional;

/**
 * A linear kernel under test: {@code y = x·Wᵀ} on QuantGate's packed weights ({@link QuantizedMatrix}, the SPEC's
 * bit-exact formats). QuantGate's own C kernels are the {@code native} provider; other providers (ONNX Runtime's
 * MatMulNBits, a user's kernel) join through {@link java.util.ServiceLoader} ({@code
 * META-INF/services/io.quantgate.kernel.LinearKernel}) and {@link Kernels#byName} finds them.
 *
 * <p>The contract that keeps comparisons honest: {@link #cannotRun} says when the kernel cannot compute a format
 * exactly (it never runs a different format under the config's label), and {@link #prepare} starts from the very
 * codes the oracle checks; a kernel may repack them into its own layout (as Marlin and llama.cpp do), and says how
 * many bytes it then reads.
 */
public interface LinearKernel {

    /** The name users type ({@code native}, {@code onnxruntime}, ...): lower case, no spaces or commas. */
    String name();

    /** One line: the implementation, its version and build. */
    String description();

    /** Why this kernel cannot run on this machine at all (a library that failed to load), or empty when it can. */
    default Optional<String> unavailableReason() {
        return Optional.empty();
    }

    /**
     * Why this kernel cannot compute {@code config} with these activations on an {@code n × k} matrix exactly, or
     * empty when it can.
     */
    Optional<String> cannotRun(ConfigId config, ActivationMode activations, int n, int k);

    /**
     * The weights in the kernel's own form, ready for {@link PreparedLinear#gemm}. The caller keeps {@code weights}
     * alive until the prepared linear is closed (a kernel may read them in place).
     *
     * @throws IllegalArgumentException when {@link #cannotRun} says it cannot, with that reason
     */
    PreparedLinear prepare(QuantizedMatrix weights, ActivationMode activations);
}
