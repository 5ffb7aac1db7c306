package io.quantgate.backend;

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
 * @param properties    backend-specific settings, named {@code <backend>.<key>}, e.g. {@code native.activations=fp32}
 */
public record BackendOptions(int contextLength, int threads, Path workDir, Duration timeout,
                             Map<String, String> properties) {

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
        properties = Map.copyOf(properties);
    }

    /** Context 512, engine-default threads, {@code java.io.tmpdir/quantgate-backends}, 120 s per answer. */
    public static BackendOptions defaults() {
        return new BackendOptions(512, 0, Path.of(System.getProperty("java.io.tmpdir"), "quantgate-backends"),
                Duration.ofSeconds(120), Map.of());
    }

    public BackendOptions withContextLength(int n) {
        return new BackendOptions(n, threads, workDir, timeout, properties);
    }

    public BackendOptions withThreads(int n) {
        return new BackendOptions(contextLength, n, workDir, timeout, properties);
    }

    public BackendOptions withWorkDir(Path dir) {
        return new BackendOptions(contextLength, threads, dir, timeout, properties);
    }

    public BackendOptions withTimeout(Duration t) {
        return new BackendOptions(contextLength, threads, workDir, t, properties);
    }

    public BackendOptions with(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(properties);
        m.put(key, value);
        return new BackendOptions(contextLength, threads, workDir, timeout, m);
    }

    public String property(String key, String fallback) {
        return properties.getOrDefault(key, fallback);
    }
}
