package io.quantgate.junit;

import io.quantgate.harness.Harness;
import io.quantgate.kernels.format.QuantizationConfig;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;

import java.util.List;

/** One configuration on one backend: its name, and the extension that measures it when the invocation runs. */
final class QuantInvocationContext implements TestTemplateInvocationContext {
    final QuantTestSpec spec;
    final QuantizationConfig config;
    final String backend;
    final BenchResources resources;
    final QuantSettings settings;
    final Harness harness;
    private final boolean showBackend;

    QuantInvocationContext(QuantTestSpec spec, QuantizationConfig config, String backend, boolean showBackend,
                           BenchResources resources, QuantSettings settings, Harness harness) {
        this.spec = spec;
        this.config = config;
        this.backend = backend;
        this.showBackend = showBackend;
        this.resources = resources;
        this.settings = settings;
        this.harness = harness;
    }

    /** {@code fp4-g128}, or {@code fp4-g128 on llamacpp} when the test runs several backends. */
    @Override
    public String getDisplayName(int invocationIndex) {
        return DisplayNames.base(config.label(), backend, showBackend);
    }

    @Override
    public List<Extension> getAdditionalExtensions() {
        return List.of(new QuantInvocationExtension(this));
    }
}
