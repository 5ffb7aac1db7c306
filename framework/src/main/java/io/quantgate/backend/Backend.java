package io.quantgate.backend;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.runtime.model.ModelWeights;

import java.util.Optional;

/**
 * An inference engine QuantGate can compare: our native kernels, a pure-JVM path, llama.cpp, ONNX Runtime,
 * jlama or any external program. Implementations are found with {@link java.util.ServiceLoader} (listed in
 * {@code META-INF/services/io.quantgate.backend.Backend}), so an optional backend joins by being on the
 * classpath; {@link Backends#byName} looks one up.
 *
 * <p>The contract that keeps comparisons honest: {@link #plan} says, for one config id on one model, exactly
 * which weights in which format the engine would run, or that it cannot run them. A backend never runs a
 * different format under the config's label (no Q4_K for {@code int4-g128}, no fp32 for {@code fp16}).
 */
public interface Backend {

    /** The name users type ({@code native}, {@code llamacpp}, ...): lower case, no spaces or commas. */
    String name();

    /** One line: the engine and its version. */
    String description();

    /**
     * Why this backend cannot run on this machine at all (its native library failed to load, a required
     * program is missing), or empty when it can.
     */
    Optional<String> unavailableReason();

    /**
     * What running {@code configId} on {@code weights} would mean for this engine: which file it gets, in which
     * format, whether that is bit-exact with QuantGate's quantized weights, and whether it can give logits; or
     * why it cannot run that config. Cheap: writes no files and loads no model.
     */
    RunPlan plan(ModelWeights weights, QuantizationConfig config);

    /**
     * Loads {@code configId} of {@code weights} into the engine (writing whatever file it needs under
     * {@link BackendOptions#workDir()}).
     *
     * @throws IllegalArgumentException when {@link #plan} says it cannot run, with that reason
     * @throws BackendException          when the engine fails
     */
    BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options);

    /**
     * Whether this engine can run its linear layers on a linear kernel of the kernel SPI
     * ({@link BackendOptions#kernel()}); engines with their own kernels (llama.cpp, ONNX Runtime, jlama) cannot.
     */
    default boolean acceptsKernels() {
        return false;
    }

    /**
     * This backend bound to an argument: {@code Backends.byName("external:./my-engine --fast")} calls
     * {@code withArgument("./my-engine --fast")} on the backend named {@code external}. Backends that take
     * no argument refuse.
     */
    default Backend withArgument(String argument) {
        throw new IllegalArgumentException("backend '" + name() + "' takes no argument (got '" + argument + "')");
    }
}
