package io.quantgate.harness;

import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.Backends;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.runtime.model.ModelWeights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The engines a measurement opened on one model, each {@link Subject} (backend, config, activations) opened once and
 * kept until the pool closes: the reference that every configuration of a suite is compared with is quantized and
 * loaded once, whatever engine runs it. {@code native} is a backend like the others here. A subject asked for with a
 * longer context than it was opened with is reopened. Thread-safe (measurements themselves are serialized by
 * {@link Harness#lock()}).
 */
public final class ModelPool implements AutoCloseable {
    private record Key(String backend, String kernel, String config, String activations) {
    }

    private final ModelWeights weights;
    private final Function<String, Backend> backends;
    private final BackendOptions options;
    private final int minContext;
    private final long logitsCacheBytes;
    private final Map<Key, BackendModel> open = new LinkedHashMap<>();
    private final Map<Key, CachingLogitsModel> cachedLogits = new LinkedHashMap<>();
    private boolean closed;

    /**
     * @param options          how to open engines (work directory, threads, timeout, tokenizer); the context length
     *                         and activations are set per subject
     * @param minContext       every engine gets at least this many positions (or the model's own context when
     *                         smaller), so that measurements of different lengths share one opened engine
     * @param logitsCacheBytes budget for caching baseline logits ({@link #cachedLogits})
     */
    public ModelPool(ModelWeights weights, BackendOptions options, int minContext, long logitsCacheBytes) {
        this(weights, options, minContext, logitsCacheBytes, Backends::byName);
    }

    /** @param backends finds a backend by the name a subject gives (the classpath's, {@link Backends#byName}) */
    public ModelPool(ModelWeights weights, BackendOptions options, int minContext, long logitsCacheBytes,
                     Function<String, Backend> backends) {
        this.weights = Objects.requireNonNull(weights, "weights");
        this.backends = Objects.requireNonNull(backends, "backends");
        this.options = Objects.requireNonNull(options, "options");
        this.minContext = minContext;
        this.logitsCacheBytes = logitsCacheBytes;
    }

    public ModelWeights weights() {
        return weights;
    }

    /** The backend a subject names, or why it is not here. */
    public Backend backend(Subject s) {
        Backend b = backends.apply(s.backend());
        b.unavailableReason().ifPresent(why -> {
            throw new BackendUnavailableException("backend '" + s.backend() + "' is not available here: " + why);
        });
        return b;
    }

    /** What the subject's engine would run, or why it cannot (cheap: loads nothing). */
    public RunPlan plan(Subject s) {
        Backend b = backend(s);
        if (s.kernel() != null && !b.acceptsKernels()) {
            return RunPlan.cannotRun(b.name(), s.configLabel(), "backend '" + b.name() + "' runs its own kernels; only "
                    + "an engine that takes a linear kernel (native) can run kernel '" + s.kernelName() + "'");
        }
        return b.plan(weights, s.config());
    }

    /**
     * The subject opened on its engine with at least {@code context} positions.
     *
     * @throws BackendUnavailableException when the backend is absent or cannot load here
     * @throws IllegalArgumentException   when the engine cannot run the config (the plan's reason)
     */
    public synchronized BackendModel open(Subject s, int context) {
        if (closed) {
            throw new IllegalStateException("the engines of " + weights.source() + " were already closed");
        }
        if (s.isKernel()) {
            throw new IllegalArgumentException(s.describe() + " is a kernel subject, not an engine");
        }
        int seq = weights.config().seqLen();
        if (context > seq) {
            throw new IllegalArgumentException(context + " positions exceed the context of " + seq + " of "
                    + weights.source());
        }
        Key key = key(s);
        BackendModel m = open.get(key);
        if (m != null && m.contextLength() < context) {
            cachedLogits.remove(key);
            open.remove(key).close();
            m = null;
        }
        if (m == null) {
            plan(s).requireRunnable();
            Backend b = backend(s);
            int ctx = Math.min(seq, Math.max(context, minContext));
            m = b.open(weights, s.config(), options.withContextLength(ctx).withActivations(s.activations())
                    .withKernel(s.kernel()));
            open.put(key, m);
        }
        return m;
    }

    /** The subject's logits (for perplexity), or why its engine gives none. */
    public synchronized LogitsModel logits(Subject s, int context) {
        BackendModel m = open(s, context);
        return m.logits().orElseThrow(() -> new NoLogitsException("backend '" + s.backend() + "' gives no logits for "
                + s.configLabel() + ": " + m.plan().noLogits()));
    }

    /**
     * The subject's logits with every answer cached up to the pool's budget: a baseline that ten configurations are
     * compared with is evaluated once per chunk, not ten times.
     */
    public synchronized LogitsModel cachedLogits(Subject s, int context) {
        LogitsModel live = logits(s, context);
        Key key = key(s);
        CachingLogitsModel c = cachedLogits.get(key);
        if (c == null || c.source() != live) {
            c = new CachingLogitsModel(live, logitsCacheBytes);
            cachedLogits.put(key, c);
        }
        return c;
    }

    private static Key key(Subject s) {
        return new Key(s.backend(), s.kernel(), s.configLabel(), s.effectiveActivations().id());
    }

    @Override
    public synchronized void close() {
        closed = true;
        RuntimeException first = null;
        List<BackendModel> all = new ArrayList<>(open.values());
        open.clear();
        cachedLogits.clear();
        for (BackendModel m : all) {
            try {
                m.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Raised when a subject's engine cannot be used here at all. */
    public static final class BackendUnavailableException extends IllegalStateException {
        public BackendUnavailableException(String message) {
            super(message);
        }
    }

    /** Raised when perplexity is asked of an engine that gives no logits. */
    public static final class NoLogitsException extends IllegalStateException {
        public NoLogitsException(String message) {
            super(message);
        }
    }
}
