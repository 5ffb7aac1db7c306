package io.quantgate.backend;

import io.quantgate.kernel.Kernels;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.NativeLinearKernel;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.runtime.model.ModelWeights;

import java.util.Optional;

/**
 * {@code native}: QuantGate's own {@link io.quantgate.runtime.model.LlamaModel} on the native kernels, the
 * reference every other backend is compared with. Runs every config id (the weights are quantized on load into
 * {@link io.quantgate.kernels.format.QuantizedMatrix} codes, which define what a config means).
 *
 * <p>Activations come from {@link BackendOptions#activations()}: {@code INT8} (the fast path, as llama.cpp also
 * quantizes activations to 8 bits for its Q8_0/Q4_0 dot products) or {@code FP32} (weight-only quantization). Threads,
 * when given, set the kernels' pool for the whole JVM.
 */
public final class NativeBackend implements Backend {
    public static final String NAME = "native";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "QuantGate native kernels (" + safeIsa() + ")";
    }

    private static String safeIsa() {
        try {
            return NativeKernels.isa().id();
        } catch (RuntimeException | LinkageError e) {
            return "not loaded";
        }
    }

    @Override
    public Optional<String> unavailableReason() {
        try {
            NativeKernels.ensureLoaded();
            return Optional.empty();
        } catch (RuntimeException | LinkageError e) {
            return Optional.of("the native kernel library failed to load: " + e.getMessage());
        }
    }

    @Override
    public RunPlan plan(ModelWeights weights, QuantizationConfig config) {
        String configId = config.label();
        QuantizationConfig quant = config;
        java.util.Optional<String> missing = io.quantgate.runtime.model.CalibratedWeights.missingCalibration(weights,
                quant);
        if (missing.isPresent()) {
            return RunPlan.cannotRun(NAME, configId, missing.get());
        }
        return RunPlan.runs(NAME, configId, "QuantGate native " + configId + " (QuantizedMatrix codes, the reference)",
                null);
    }

    /** Which activations the kernels really take: dense weights always take fp32, whatever was asked. */
    static String activations(QuantizationConfig quant, ActivationMode act) {
        if (act == ActivationMode.FP32) {
            return "fp32 activations";
        }
        String mode = act.id();
        if (quant instanceof QuantizationConfig.Uniform u) {
            return u.id().format().isQuantized() ? mode + " activations" : "fp32 activations (dense weights)";
        }
        return mode + " activations for quantized linears, fp32 for dense ones";
    }

    /** Its linear layers run on any kernel of the kernel SPI ({@link BackendOptions#kernel()}). */
    @Override
    public boolean acceptsKernels() {
        return true;
    }

    @Override
    public BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        String configId = config.label();
        RunPlan plan = plan(weights, config).requireRunnable();
        ActivationMode act = options.activations();
        if (options.threads() > 0) {
            NativeKernels.setThreads(options.threads());
        }
        int ctx = Math.min(options.contextLength(), weights.config().seqLen());
        LinearKernel kernel = options.kernel() == null ? new NativeLinearKernel() : Kernels.byName(options.kernel());
        kernel.unavailableReason().ifPresent(why -> {
            throw new IllegalStateException("kernel '" + kernel.name() + "' is not available here: " + why);
        });
        String runs = options.kernel() == null ? plan.runs()
                : "QuantGate native " + configId + " with every linear layer on kernel '" + kernel.name() + "' ("
                + kernel.description() + ")";
        // what ran, as every engine states it: the kernels' instruction-set tier and threads
        String engine = options.kernel() == null ? String.format(java.util.Locale.ROOT, "; QuantGate %s C kernels, "
                + "tier %s, %d threads", io.quantgate.results.QuantGateVersion.get(),
                NativeKernels.isa().name().toLowerCase(java.util.Locale.ROOT), NativeKernels.threads()) : "";
        plan = RunPlan.runs(NAME, configId, runs + ", " + activations(config, act) + engine, null);
        return new NativeBackendModel(plan, weights, config, act, ctx, kernel);
    }
}
