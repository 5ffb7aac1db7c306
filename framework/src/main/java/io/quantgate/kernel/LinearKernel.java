package io.quantgate.kernel;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A linear kernel under test: {@code y = x·Wᵀ} on QuantGate's packed weights ({@link QuantizedMatrix}, the SPEC's
 * bit-exact formats). QuantGate's own C kernels are the {@code native} provider; other providers (the Vector API
 * kernels of the java-vector artifact, ONNX Runtime's MatMulNBits, a user's kernel in Java, in C through FFM, or in
 * another process through {@code external-kernel:<command>}) join through {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.quantgate.kernel.LinearKernel}) or by class name, and {@link Kernels#byName} finds
 * them. Everything the framework measures works with any kernel: the model runs every linear layer through it
 * ({@code @Perplexity}), {@code @Throughput} times it against a reference kernel, {@code @KernelCheck} compares it with
 * the Java oracle.
 *
 * <p>The contract that keeps comparisons honest: {@link #cannotRun} says when the kernel cannot compute a format
 * exactly (it never runs a different format under the config's label), and {@link #prepare} starts from the very
 * codes the oracle checks; a kernel may repack them into its own layout (as Marlin and llama.cpp do) and says how many
 * bytes it then reads ({@link PreparedLinear#preparedBytes}). The framework checks every size and bound before it
 * calls {@link PreparedLinear#gemm} (see {@link Linear}).
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

    /** The weight formats it runs (default: all). */
    default Set<WeightFormat> formats() {
        return EnumSet.allOf(WeightFormat.class);
    }

    /**
     * The activation modes it runs for quantized weights (default: fp32 and int8; a kernel that rounds weights and
     * activations to bf16 says so by adding {@link ActivationMode#BF16}, so that no kernel is credited with a bf16 run
     * it computed in fp32). Dense weights (fp32, fp16, bf16) always take fp32 activations.
     */
    default Set<ActivationMode> activationModes() {
        return EnumSet.of(ActivationMode.FP32, ActivationMode.INT8);
    }

    /**
     * Why this kernel cannot compute {@code config} with these activations on an {@code n × k} matrix exactly, or
     * empty when it can. The default checks {@link #formats()} and {@link #activationModes()}; kernels with shape
     * limits add theirs.
     */
    default Optional<String> cannotRun(ConfigId config, ActivationMode activations, int n, int k) {
        if (!formats().contains(config.format())) {
            return Optional.of("kernel '" + name() + "' runs " + formats().stream().map(WeightFormat::id).toList()
                    + ", not " + config.format().id());
        }
        if (config.format().isQuantized() && !activationModes().contains(activations)) {
            return Optional.of("kernel '" + name() + "' takes " + activationModes().stream()
                    .map(a -> a.name().toLowerCase(Locale.ROOT)).toList() + " activations, not "
                    + activations.name().toLowerCase(Locale.ROOT));
        }
        return Optional.empty();
    }

    /**
     * The weights in the kernel's own form, ready for {@link PreparedLinear#gemm}. The caller keeps {@code weights}
     * alive until the prepared linear is closed (a kernel may read them in place). {@code activations} is the effective
     * mode: always {@code FP32} for dense weights.
     *
     * @throws IllegalArgumentException when {@link #cannotRun} says it cannot, with that reason
     */
    PreparedLinear prepare(QuantizedMatrix weights, ActivationMode activations);

    /**
     * This kernel bound to an argument: {@code Kernels.byName("external-kernel:python3 k.py")} calls
     * {@code withArgument("python3 k.py")} on the kernel named {@code external-kernel}. Kernels that take no argument
     * refuse.
     */
    default LinearKernel withArgument(String argument) {
        throw new IllegalArgumentException("kernel '" + name() + "' takes no argument (got '" + argument + "')");
    }
}
