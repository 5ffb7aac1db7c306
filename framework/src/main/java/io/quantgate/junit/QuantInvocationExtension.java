package io.quantgate.junit;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.evaluation.throughput.ThroughputRow;
import io.quantgate.gate.GateResult;
import io.quantgate.gate.Verdict;
import io.quantgate.results.ResultsCollector;
import io.quantgate.runtime.model.LlamaModel;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.BeforeTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Per invocation: hands the record to the results listener, publishes the figures as report entries, turns
 * the verdict into the test's outcome (FAIL → failed with every gate's figures, INCONCLUSIVE → aborted with
 * the reason), and injects the results and the quantized model into the test method.
 */
final class QuantInvocationExtension implements BeforeTestExecutionCallback, AfterTestExecutionCallback,
        ParameterResolver {
    private static final Set<Class<?>> INJECTABLE = Set.of(QuantResult.class, ComparisonResult.class,
            PerplexityResult.class, ThroughputResult.class, LlamaModel.class);
    private static final String LOCKED = "model-lock-held";

    private final QuantInvocationContext invocation;

    QuantInvocationExtension(QuantInvocationContext invocation) {
        this.invocation = invocation;
    }

    @Override
    public void beforeTestExecution(ExtensionContext context) {
        QuantInvocationContext.Outcome o = invocation.outcome();
        Map<String, Object> test = new LinkedHashMap<>();
        test.put("unique_id", context.getUniqueId());
        test.put("class", context.getRequiredTestClass().getName());
        test.put("method", context.getRequiredTestMethod().getName());
        test.put("name", invocation.spec.testName());
        test.put("display_name", context.getDisplayName());
        test.put("tags", List.copyOf(context.getTags()));
        if (o.error() != null) {
            ResultsCollector.put(context.getUniqueId(), ResultJson.error(invocation.config,
                    invocation.spec.bench().baseline(), invocation.backend, test, o.error()));
            throw o.error();
        }
        QuantResult r = o.result();
        ResultsCollector.put(context.getUniqueId(), ResultJson.of(r, test));
        context.publishReportEntry(reportEntries(r));
        Verdict v = r.verdict().orElse(Verdict.PASS);
        if (v == Verdict.FAIL) {
            throw new AssertionFailedError(message("QuantGate: gate failed", r));
        }
        if (v == Verdict.INCONCLUSIVE) {
            throw new TestAbortedException(message("QuantGate: inconclusive (an inconclusive gate never passes; measure "
                    + "more chunks or rounds, or set the limit away from the measured value)", r));
        }
        boolean wantsModel = false;
        for (Class<?> p : context.getRequiredTestMethod().getParameterTypes()) {
            wantsModel |= p == LlamaModel.class;
        }
        if (wantsModel) {
            // the body may run the shared model: no measurement may run beside it
            NativeAccess.LOCK.lock();
            context.getStore(QuantTestExtension.NAMESPACE).put(LOCKED, Boolean.TRUE);
        }
    }

    @Override
    public void afterTestExecution(ExtensionContext context) {
        if (context.getStore(QuantTestExtension.NAMESPACE).remove(LOCKED) != null) {
            NativeAccess.LOCK.unlock();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext pc, ExtensionContext ec) {
        return INJECTABLE.contains(pc.getParameter().getType());
    }

    @Override
    public Object resolveParameter(ParameterContext pc, ExtensionContext ec) {
        Class<?> type = pc.getParameter().getType();
        QuantResult r = invocation.outcome().result();
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
        return invocation.resources.variant(invocation.config, invocation.spec.bench().activations(), needed);
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

    private static Map<String, String> reportEntries(QuantResult r) {
        Map<String, String> e = new LinkedHashMap<>();
        e.put("quantgate.config", r.config());
        e.put("quantgate.backend", r.backend());
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
                e.put(k + ".speedup", fmt("%.3f [%.3f, %.3f] over %s", row.medianSpeedup(), row.speedupCi()[0],
                        row.speedupCi()[1], row.reference()));
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
