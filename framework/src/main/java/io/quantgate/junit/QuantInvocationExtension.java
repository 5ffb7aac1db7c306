package io.quantgate.junit;

import io.quantgate.backend.BackendModel;
import io.quantgate.backend.NativeBackendModel;
import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.gate.GateResult;
import io.quantgate.gate.Verdict;
import io.quantgate.harness.Harness;
import io.quantgate.harness.Subject;
import io.quantgate.results.Records;
import io.quantgate.results.ResultsCollector;
import io.quantgate.results.model.TestInfo;
import io.quantgate.results.model.ThroughputRow;
import io.quantgate.runtime.model.LlamaModel;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.junit.platform.commons.support.ReflectionSupport;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Runs one invocation's measurement inside the invocation itself — an {@link InvocationInterceptor} on the test
 * method, so it runs after {@code @BeforeEach}, inside {@code @Timeout}, and counts in the reported duration — then
 * hands the record to the results listener, publishes the figures as report entries (what IDEs show), turns the
 * verdict into the outcome (FAIL → failed with every gate's figures, INCONCLUSIVE → aborted with the reason), and
 * calls the test body with the results.
 *
 * <p>JUnit resolves a method's parameters before any interceptor runs, and they cannot be replaced afterwards; so
 * parameters of the measured types resolve to a placeholder, and the interceptor calls the body itself with the real
 * values (skipping the original invocation). Interceptors registered after this one (none by default) are therefore
 * not called for {@code @QuantTest} methods.
 */
final class QuantInvocationExtension implements InvocationInterceptor, ParameterResolver {
    private static final Set<Class<?>> INJECTABLE = Set.of(QuantResult.class, ComparisonResult.class,
            PerplexityResult.class, ThroughputResult.class, LlamaModel.class);

    private final QuantInvocationContext invocation;

    QuantInvocationExtension(QuantInvocationContext invocation) {
        this.invocation = invocation;
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> call, ReflectiveInvocationContext<Method> method,
                                            ExtensionContext context) throws Throwable {
        QuantTestSpec spec = invocation.spec;
        TestInfo test = ResultRecords.test(context, spec);
        ConsoleProgress progress = new ConsoleProgress(invocation.settings.progress(), spec.testName() + " ["
                + invocation.config.label() + (spec.backends().size() > 1 ? " on " + invocation.backend : "") + "]");
        Harness.lock().lock();
        try {
            QuantResult r;
            try {
                r = new Measurement(spec, invocation.config, invocation.backend, invocation.resources,
                        invocation.settings, invocation.harness, progress).run();
            } catch (RuntimeException | LinkageError e) {
                RuntimeException error = e instanceof RuntimeException re ? re
                        : new IllegalStateException("cannot run the native kernels: " + e, e);
                ResultsCollector.put(context.getUniqueId(), Records.error(test, invocation.config.label(),
                        spec.bench().baseline().label(), invocation.backend, error));
                call.skip();
                throw error;
            }
            io.quantgate.results.model.ResultRecord record = ResultRecords.of(r, invocation.config, test);
            if (invocation.config.needsCalibration()) { // only then: a kernel-level test never opens the model here
                record = Records.withCalibration(record, invocation.resources.pool().weights(), invocation.config);
            }
            ResultsCollector.put(context.getUniqueId(), record);
            context.publishReportEntry(reportEntries(r, spec.backends().size() > 1));
            progress.line(DisplayNames.summary(r, spec.backends().size() > 1));
            if (r.gates().isEmpty()) {
                // measured, not gated: say so always (a test without a limit is not a gate), fail when asked to
                String what = "measured, not gated: no limit set (@Perplexity maxDeltaPercent / maxDelta / maxKld / "
                        + "minSameTop / maxEngineDeltaPercent, @Throughput minSpeedupOver / maxRegressionPercent / "
                        + "minTokensPerSecond, @KernelCheck)";
                if (requireGates(context)) {
                    call.skip();
                    throw new AssertionFailedError(spec.testName() + " [" + invocation.config.label() + "]: " + what
                            + "; " + REQUIRE_GATES + "=true makes that a failure");
                }
                System.out.println("[quantgate] " + spec.testName() + " [" + invocation.config.label() + "]: " + what);
            }
            Verdict v = r.verdict().orElse(Verdict.PASS);
            if (v == Verdict.FAIL) {
                call.skip();
                throw new AssertionFailedError(message("QuantGate: gate failed", r));
            }
            if (v == Verdict.INCONCLUSIVE) {
                call.skip();
                throw new TestAbortedException(message("QuantGate: inconclusive (an inconclusive gate never passes; "
                        + "measure more chunks or rounds, or set the limit away from the measured value)", r));
            }
            Object[] args = method.getArguments().toArray();
            Class<?>[] types = method.getExecutable().getParameterTypes();
            for (int i = 0; i < args.length; i++) {
                if (INJECTABLE.contains(types[i])) {
                    args[i] = value(types[i], r);
                }
            }
            call.skip();
            // the body may run the shared model: the lock stays held until it returns
            ReflectionSupport.invokeMethod(method.getExecutable(), method.getTarget().orElse(null), args);
        } finally {
            Harness.lock().unlock();
        }
    }

    /** Configuration parameter: a {@code @QuantTest} that sets no limit fails instead of passing ungated. */
    static final String REQUIRE_GATES = "quantgate.requireGates";

    private static boolean requireGates(ExtensionContext context) {
        String v = context.getConfigurationParameter(REQUIRE_GATES).map(String::strip).orElse("false");
        if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
            throw new org.junit.jupiter.api.extension.ExtensionConfigurationException("configuration parameter "
                    + REQUIRE_GATES + " = '" + v + "' must be true or false");
        }
        return v.equalsIgnoreCase("true");
    }

    @Override
    public boolean supportsParameter(ParameterContext pc, ExtensionContext ec) {
        return INJECTABLE.contains(pc.getParameter().getType());
    }

    /** A placeholder: the interceptor passes the measured value (see the class comment). */
    @Override
    public Object resolveParameter(ParameterContext pc, ExtensionContext ec) {
        return null;
    }

    private Object value(Class<?> type, QuantResult r) {
        String test = invocation.spec.testName();
        if (type == QuantResult.class) {
            return r;
        }
        if (type == ComparisonResult.class) {
            return r.perplexity().orElseThrow(() -> new ParameterResolutionException(
                    "ComparisonResult is measured only with @Perplexity, which " + test + " does not have"));
        }
        if (type == PerplexityResult.class) {
            return r.quantPerplexity().orElseThrow(() -> new ParameterResolutionException(
                    "PerplexityResult is measured only with @Perplexity, which " + test + " does not have"));
        }
        if (type == ThroughputResult.class) {
            return r.throughput().orElseThrow(() -> new ParameterResolutionException(
                    "ThroughputResult is measured only with @Throughput, which " + test + " does not have"));
        }
        int needed = invocation.spec.perplexity().map(QuantTestSpec.PerplexitySpec::ctx).orElse(1);
        BackendModel m = invocation.resources.pool().open(Subject.model(invocation.backend, invocation.config,
                invocation.spec.bench().activations()), needed);
        if (m instanceof NativeBackendModel n) {
            return n.model();
        }
        throw new ParameterResolutionException("a LlamaModel parameter is QuantGate's own engine; backend '"
                + invocation.backend + "' runs " + m.plan().describe());
    }

    private static String message(String head, QuantResult r) {
        List<GateResult> gates = new ArrayList<>(r.gates());
        gates.sort(Comparator.comparing(GateResult::verdict, Comparator.comparingInt(QuantInvocationExtension::rank)));
        StringBuilder s = new StringBuilder(head).append(" for ").append(r.config()).append(" on ").append(r.backend())
                .append(" (").append(r.testName()).append("):");
        for (GateResult g : gates) {
            s.append("\n  ").append(g.message());
        }
        return s.toString();
    }

    private static int rank(Verdict v) {
        return switch (v) {
            case FAIL -> 0;
            case INCONCLUSIVE -> 1;
            case PASS -> 2;
        };
    }

    private static Map<String, String> reportEntries(QuantResult r, boolean showBackend) {
        Map<String, String> e = new LinkedHashMap<>();
        e.put("quantgate.summary", DisplayNames.summary(r, showBackend));
        e.put("quantgate.config", r.config());
        e.put("quantgate.backend", r.backend());
        e.put("quantgate.ran", r.ran());
        r.verdict().ifPresent(v -> e.put("quantgate.verdict", v.name()));
        if (Double.isFinite(r.compressionRatio())) {
            e.put("quantgate.compression", fmt("%.3f", r.compressionRatio()));
        }
        r.perplexity().ifPresent(c -> {
            e.put("quantgate.ppl_base", fmt("%.4f", c.pplBase()));
            e.put("quantgate.ppl_quant", fmt("%.4f", c.pplQuant()));
            e.put("quantgate.ppl_delta_percent", fmt("%+.3f [%+.3f, %+.3f]", c.deltaPercent(),
                    c.deltaPercentCi().low(), c.deltaPercentCi().high()));
            e.put("quantgate.kld", fmt("%.6f [%.6f, %.6f]", c.meanKld(), c.kldCi().low(), c.kldCi().high()));
            e.put("quantgate.same_top_percent", fmt("%.2f [%.2f, %.2f]", c.sameTopPercent(), c.sameTopCi().low(),
                    c.sameTopCi().high()));
            e.put("quantgate.chunks", Integer.toString(c.chunks()));
        });
        r.throughput().ifPresent(t -> {
            for (ThroughputRow row : t.rows()) {
                String k = "quantgate." + row.label().replace(' ', '_');
                e.put(k + ".rate", fmt("%.4g %s", row.medianRate(), row.unit()));
                e.put(k + ".speedup", fmt("%.3f [%.3f, %.3f] over %s", row.medianSpeedup(), row.speedupCi().low(),
                        row.speedupCi().high(), t.reference()));
                e.put(k + ".fraction_of_bandwidth", fmt("%.3f", row.fractionOfBandwidth().median()));
            }
        });
        List<GateResult> gates = r.gates();
        for (int i = 0; i < gates.size(); i++) {
            e.put("quantgate.gate." + (i + 1) + "." + gates.get(i).name(), gates.get(i).message());
        }
        return e;
    }

    private static String fmt(String f, Object... args) {
        return String.format(Locale.ROOT, f, args);
    }
}
