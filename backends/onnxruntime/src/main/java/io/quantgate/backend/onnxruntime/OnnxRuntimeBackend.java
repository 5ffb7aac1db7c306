package io.quantgate.backend.onnxruntime;

import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.RunPlan;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.runtime.model.ModelWeights;

import java.util.Optional;

/**
 * {@code onnxruntime}: ONNX Runtime (com.microsoft.onnxruntime 1.29.0, CPU) at kernel level — one linear layer
 * as a MatMulNBits / MatMul graph built in Java on QuantGate's own codes ({@link OnnxLinear}), timed against our
 * native kernel on the same shapes by {@link OnnxKernelBench}. Whole models are not built as ONNX graphs, so as a
 * model backend every plan says it cannot run, with the reason and what the config would map to.
 */
public final class OnnxRuntimeBackend implements Backend {
    public static final String NAME = "onnxruntime";
    private static volatile String loadFailure;
    private static volatile boolean loaded;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "ONNX Runtime 1.29.0 (CPU), kernel level";
    }

    /** Loads ONNX Runtime's native library once. */
    static synchronized Optional<String> load() {
        if (!loaded && loadFailure == null) {
            try {
                OnnxEnvironment.get();
                loaded = true;
            } catch (RuntimeException | LinkageError e) {
                loadFailure = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
        return Optional.ofNullable(loadFailure).map(f -> "ONNX Runtime's native library failed to load: " + f);
    }

    @Override
    public Optional<String> unavailableReason() {
        return load();
    }

    @Override
    public RunPlan plan(ModelWeights weights, QuantizationConfig config) {
        String configId = config.label();
        QuantizationConfig quant = config;
        String kernel;
        if (quant instanceof QuantizationConfig.Uniform u) {
            int k = weights.config().dim();
            Optional<String> no = OnnxLinear.cannotRun(u.id(), k);
            kernel = no.map(r -> "its linears cannot map either: " + r)
                    .orElse("its linears map to: " + OnnxLinear.describe(u.id(), 4));
        } else {
            kernel = "mixed configs are not mapped";
        }
        return RunPlan.cannotRun(NAME, configId, "whole models are not built as ONNX graphs here; ONNX Runtime is "
                + "compared at kernel level (./quantgate bench onnx-kernels), where " + kernel);
    }

    @Override
    public BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        String configId = config.label();
        plan(weights, config).requireRunnable();
        throw new IllegalStateException("unreachable");
    }
}
