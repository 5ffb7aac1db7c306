package io.quantgate.junit;

import io.quantgate.harness.Harness;
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
 * The extension behind {@link QuantTest}: checks the annotations, skips a test whose data files are missing (naming
 * them), and provides one invocation per backend × configuration, named by its configuration (and backend when there
 * are several). The measurement itself runs inside each invocation ({@link QuantInvocationExtension}), after
 * {@code @BeforeEach}, under {@code @Timeout}, and counted in the invocation's duration; its figures are published as
 * report entries.
 *
 * <p>What a test class shares lives in its store under this class's namespace: one {@link BenchResources} per
 * {@link QuantBench} (model, tokens, the engines opened on it), closed when the class ends. What the run shares lives
 * in the root store: one {@link Harness} (and so one bandwidth probe) and the {@link ReportFiles} hook, closed when
 * the run ends. Tokenized datasets are cached for the JVM ({@link TokenCache}).
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
        ExtensionContext run = context.getRoot();
        record Key(QuantTestSpec.Bench bench, Path dataDir) {
        }
        // the test class's store: its engines (a 1B model on several engines is gigabytes) are closed when the class
        // ends, so a suite of classes holds one class's engines at a time
        ExtensionContext testClass = context.getParent().orElse(run);
        BenchResources res = testClass.getStore(NAMESPACE).getOrComputeIfAbsent(new Key(spec.bench(), dataDir),
                k -> new BenchResources(spec.bench(), dataDir, settings), BenchResources.class);
        Harness harness = run.getStore(NAMESPACE).getOrComputeIfAbsent(Harness.class,
                k -> new Harness(settings.memory(), null), Harness.class);
        // once per run: publish the report's files as JUnit file entries when the run ends (see ReportFiles)
        run.getStore(NAMESPACE).getOrComputeIfAbsent(ReportFiles.class, k -> new ReportFiles(run), ReportFiles.class);
        boolean showBackend = spec.backends().size() > 1;
        return spec.backends().stream().flatMap(b -> spec.configs().stream()
                .map(c -> new QuantInvocationContext(spec, c, b, showBackend, res, settings, harness)));
    }

    /**
     * Disabled, with the exact missing path and how to get it, when a data file the test needs is absent — or failed,
     * when {@link MissingDataPolicy} says a missing file must not pass silently (a near-miss name, a CI job,
     * {@code quantgate.missingData=fail}). A configuration error is left to
     * {@link #provideTestTemplateInvocationContexts}, which reports it.
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
        Optional<DataFiles.Missing> missing = DataFiles.missingFile(spec,
                settings.resolveDataDir(spec.bench().dataDir()));
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled("all data files present");
        }
        MissingDataPolicy policy = MissingDataPolicy.parse(context.getConfigurationParameter(MissingDataPolicy.KEY));
        Optional<String> failure = policy.failure(missing.get(), System.getenv());
        if (failure.isPresent()) {
            // thrown from the condition: the test fails, never silently disabled
            throw new ExtensionConfigurationException(failure.get());
        }
        return ConditionEvaluationResult.disabled(missing.get().reason());
    }
}
