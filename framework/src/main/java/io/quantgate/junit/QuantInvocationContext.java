package io.quantgate.junit;

import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;

import java.util.List;

/**
 * One configuration on one backend. Measures on first need (the display name, see
 * {@link QuantTestExtension}) and keeps the outcome for the invocation's callbacks and parameters.
 */
final class QuantInvocationContext implements TestTemplateInvocationContext {

    /** A measurement's result, or why there is none. */
    record Outcome(QuantResult result, RuntimeException error) {
    }

    final QuantTestSpec spec;
    final String config;
    final String backend;
    final BenchResources resources;
    final QuantSettings settings;
    private final boolean showBackend;
    private Outcome outcome;

    QuantInvocationContext(QuantTestSpec spec, String config, String backend, boolean showBackend,
                           BenchResources resources, QuantSettings settings) {
        this.spec = spec;
        this.config = config;
        this.backend = backend;
        this.showBackend = showBackend;
        this.resources = resources;
        this.settings = settings;
    }

    synchronized Outcome outcome() {
        if (outcome == null) {
            try {
                outcome = new Outcome(new Measurement(spec, config, backend, resources, settings).run(), null);
            } catch (RuntimeException e) {
                outcome = new Outcome(null, e);
            } catch (LinkageError e) {
                // e.g. the native library cannot be loaded: this invocation fails with it, the others try again
                outcome = new Outcome(null, new IllegalStateException("cannot run the native kernels: " + e, e));
            }
        }
        return outcome;
    }

    @Override
    public String getDisplayName(int invocationIndex) {
        Outcome o = outcome();
        return o.result() != null ? DisplayNames.of(o.result(), showBackend)
                : DisplayNames.base(config, backend, showBackend);
    }

    @Override
    public List<Extension> getAdditionalExtensions() {
        return List.of(new QuantInvocationExtension(this));
    }
}
