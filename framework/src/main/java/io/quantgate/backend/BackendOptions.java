package io.quantgate.backend;

import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How to open a model in a backend.
 *
 * @param contextLength KV-cache length to allocate (prompt + decode runs must fit)
 * @param threads       engine threads; 0 = the engine's default (all cores)
 * @param workDir       where backends write the files their engine loads (GGUF, safetensors); reused between
 *                      runs, keyed by model and config
 * @param timeout       longest wait for one engine answer (external engines; loading gets 10× this)
 * @param activations   what the engine's quantized dot products take: {@code INT8} (activations quantized to 8 bits
 *                      per block of 32, as llama.cpp does for Q8_0/Q4_0) or {@code FP32} (weight-only quantization);
 *                      engines that cannot choose say in their plan what they do
 * @param kernel        the linear kernel the engine's linear layers run on ({@link io.quantgate.kernel.Kernels#byName}
 *                      spec), or null for the engine's own; only engines that {@link Backend#acceptsKernels()} take one
 * @param properties    backend-specific settings, named {@code <backend>.<key>}
 */
public record BackendOptions(int contextLength, int threads, Path workDir, Duration timeout, ActivationMode activations,
                             String kernel, Map<String, String> properties) {

    public BackendOptions {
        if (contextLength < 1) {
            throw new IllegalArgumentException("context length must be positive, got " + contextLength);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be ≥ 0, got " + threads);
        }
        Objects.requireNonNull(workDir, "workDir");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        Objects.requireNonNull(activations, "activations");
        properties = Map.copyOf(properties);
    }

    /**
     * Context 512, engine-default threads, {@code java.io.tmpdir/quantgate-backends}, 120 s per answer, int8
     * activations.
     */
    public static BackendOptions defaults() {
        return new BackendOptions(512, 0, Path.of(System.getProperty("java.io.tmpdir"), "quantgate-backends"),
                Duration.ofSeconds(120), ActivationMode.INT8, null, Map.of());
    }

    public BackendOptions withContextLength(int n) {
        return new BackendOptions(n, threads, workDir, timeout, activations, kernel, properties);
    }

    public BackendOptions withThreads(int n) {
        return new BackendOptions(contextLength, n, workDir, timeout, activations, kernel, properties);
    }

    public BackendOptions withWorkDir(Path dir) {
        return new BackendOptions(contextLength, threads, dir, timeout, activations, kernel, properties);
    }

    public BackendOptions withTimeout(Duration t) {
        return new BackendOptions(contextLength, threads, workDir, t, activations, kernel, properties);
    }

    public BackendOptions withActivations(ActivationMode a) {
        return new BackendOptions(contextLength, threads, workDir, timeout, a, kernel, properties);
    }

    /** The linear kernel spec the engine's linears run on (null: its own). */
    public BackendOptions withKernel(String k) {
        return new BackendOptions(contextLength, threads, workDir, timeout, activations, k, properties);
    }

    public BackendOptions with(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(properties);
        m.put(key, value);
        return new BackendOptions(contextLength, threads, workDir, timeout, activations, kernel, m);
    }

    public String property(String key, String fallback) {
        return properties.getOrDefault(key, fallback);
    }
}
