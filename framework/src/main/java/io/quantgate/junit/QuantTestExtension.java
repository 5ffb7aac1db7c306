package io.quantgate.junit;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.junit.platform.commons.support.AnnotationSupport;

import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The extension behind {@link QuantTest}: checks the annotations, skips a test whose data files are missing
 * (naming them), and provides one invocation per backend × configuration.
 *
 * <p>Measurement is lazy and happens when JUnit asks an invocation for its display name, which it does just
 * before running that invocation (JUnit consumes the provided stream one invocation at a time and runs each
 * before asking for the next). That is how the display name can carry the measured figures and the verdict,
 * and an invocation filtered out by the launcher (an IDE re-running one config) is never measured. Failures
 * during measurement are kept and thrown by the invocation itself (see {@link QuantInvocationExtension}), so
 * one bad configuration fails (or is aborted) alone.
 *
 * <p>Resources shared by the class (model, tokens, variants, baseline logits) live in the class's store under
 * this class's namespace.
 */
final class QuantTestExtension implements TestTemplateInvocationContextProvider, ExecutionCondition {
    static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(QuantTestExtension.class);

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return context.getTestMethod().map(m -> AnnotationSupport.isAnnotated(m, QuantTest.class)).orElse(false);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        QuantSettings settings = QuantSettings.from(context);
        QuantTestSpec spec = QuantTestSpec.of(context.getRequiredTestClass(), context.getEnclosingTestClasses(),
                context.getRequiredTestMethod(), settings);
        Path dataDir = settings.resolveDataDir(spec.bench().dataDir());
        // the root store: a model (and each of its variants and baseline perplexities) is loaded once per run,
        // however many test classes name it; closed when the run ends
        ExtensionContext runContext = context.getRoot();
        record Key(QuantTestSpec.Bench bench, Path dataDir) {
        }
        BenchResources res = runContext.getStore(NAMESPACE).getOrComputeIfAbsent(new Key(spec.bench(), dataDir),
                k -> new BenchResources(spec.bench(), dataDir, settings), BenchResources.class);
        // once per run: publish the report's files as JUnit file entries when the run ends (see ReportFiles)
        runContext.getStore(NAMESPACE).getOrComputeIfAbsent(ReportFiles.class, k -> new ReportFiles(runContext),
                ReportFiles.class);
        boolean showBackend = spec.backends().size() > 1;
        return spec.backends().stream().flatMap(b -> spec.configs().stream()
                .map(c -> new QuantInvocationContext(spec, c, b, showBackend, res, settings)));
    }

    /**
     * Disabled, with the exact missing path and how to get it, when a data file the test needs is absent. A
     * configuration error is left to {@link #provideTestTemplateInvocationContexts}, which reports it.
     */
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (context.getTestMethod().isEmpty() || !supportsTestTemplate(context)) {
            return ConditionEvaluationResult.enabled("not a @QuantTest");
        }
        QuantTestSpec spec;
        QuantSettings settings;
        try {
            settings = QuantSettings.from(context);
            spec = QuantTestSpec.of(context.getRequiredTestClass(), context.getEnclosingTestClasses(),
                context.getRequiredTestMethod(), settings);
        } catch (ExtensionConfigurationException e) {
            return ConditionEvaluationResult.enabled("configuration error, reported when the test runs");
        }
        Optional<String> missing = DataFiles.missing(spec, settings.resolveDataDir(spec.bench().dataDir()));
        return missing.map(ConditionEvaluationResult::disabled)
                .orElseGet(() -> ConditionEvaluationResult.enabled("all data files present"));
    }
}
