package io.quantgate.harness;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.util.Locale;
import java.util.Objects;

/**
 * One thing measured: a configuration run by an engine ({@code backend}, for whole-model workloads and perplexity) or
 * by a linear kernel alone ({@code kernel} without a backend, for kernel workloads), with an activation mode. An
 * engine may run its linear layers on a chosen kernel ({@code backend} and {@code kernel}: the user's kernel inside
 * QuantGate's model). The configuration is parsed once, here; nothing downstream re-parses a config string.
 *
 * @param backend     the engine's name as {@link io.quantgate.backend.Backends#byName} takes it ({@code native},
 *                    {@code llamacpp}, {@code external:./engine}); null for a kernel subject
 * @param kernel      the kernel's name as {@link io.quantgate.kernel.Kernels#byName} takes it; null for an engine
 *                    running its own kernels
 * @param config      the quantization (a uniform id for kernels)
 * @param activations fp32, int8 or bf16; dense weights always take fp32 (see {@link #effectiveActivations})
 */
public record Subject(String backend, String kernel, QuantizationConfig config, ActivationMode activations) {

    public Subject {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(activations, "activations");
        if (backend == null && kernel == null) {
            throw new IllegalArgumentException("a subject is run by a backend, a kernel, or a backend on a kernel");
        }
        if (backend == null && !(config instanceof QuantizationConfig.Uniform)) {
            throw new IllegalArgumentException("a kernel runs one weight format: '" + config + "' is not a uniform id");
        }
    }

    public static Subject model(String backend, QuantizationConfig config, ActivationMode activations) {
        return new Subject(backend, null, config, activations);
    }

    /** {@code backend} running its linear layers on {@code kernel} (null: the engine's own). */
    public static Subject model(String backend, String kernel, QuantizationConfig config, ActivationMode activations) {
        return new Subject(backend, kernel, config, activations);
    }

    public static Subject kernel(String kernel, ConfigId config, ActivationMode activations) {
        return new Subject(null, kernel, new QuantizationConfig.Uniform(config), activations);
    }

    /** A kernel alone (a kernel workload), not an engine. */
    public boolean isKernel() {
        return backend == null;
    }

    /** The uniform id of a kernel subject. */
    public ConfigId configId() {
        if (config instanceof QuantizationConfig.Uniform u) {
            return u.id();
        }
        throw new IllegalStateException("'" + config + "' is not a uniform id");
    }

    /** The activations the kernels really take: dense weights (fp32/fp16/bf16) always take fp32. */
    public ActivationMode effectiveActivations() {
        if (activations != ActivationMode.FP32 && config instanceof QuantizationConfig.Uniform u
                && !u.id().format().isQuantized()) {
            return ActivationMode.FP32;
        }
        return activations;
    }

    /** The engine or kernel as named, argument included ({@code external:./engine --fast}). */
    public String runner() {
        return backend != null ? backend : kernel;
    }

    /** The engine or kernel's name without its argument ({@code external}): what tables and records show. */
    public String runnerName() {
        return shortName(runner());
    }

    /** The kernel's name without its argument, or null. */
    public String kernelName() {
        return kernel == null ? null : shortName(kernel);
    }

    private static String shortName(String spec) {
        if (spec.startsWith(io.quantgate.kernel.Kernels.CLASS_PREFIX)) {
            String c = spec.substring(io.quantgate.kernel.Kernels.CLASS_PREFIX.length());
            return c.substring(c.lastIndexOf('.') + 1);
        }
        int colon = spec.indexOf(':');
        return colon < 0 ? spec : spec.substring(0, colon);
    }

    /** The config as users write it: a uniform id without its {@code uniform:} prefix. */
    public String configLabel() {
        return config.label();
    }

    /** e.g. {@code int4-g128 (int8 activations) on native}. */
    public String describe() {
        return configLabel() + " (" + effectiveActivations().name().toLowerCase(Locale.ROOT) + " activations) on "
                + runnerName() + (backend != null && kernel != null ? " with kernel " + kernelName() : "");
    }
}
