package io.quantgate.junit;

import io.quantgate.runtime.FileHashes;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.gate.BaselineStore;
import io.quantgate.gate.GateResult;
import io.quantgate.gate.MachineFingerprint;
import io.quantgate.gate.QualityGates;
import io.quantgate.gate.SpeedGates;
import io.quantgate.gate.StoredBaseline;
import io.quantgate.gate.Verdict;
import io.quantgate.harness.Harness;
import io.quantgate.harness.ModelCost;
import io.quantgate.harness.ModelPool;
import io.quantgate.harness.PerplexityPlan;
import io.quantgate.harness.Subject;
import io.quantgate.harness.ThroughputPlan;
import io.quantgate.harness.Workload;
import io.quantgate.gate.IntervalGate;
import io.quantgate.kernel.KernelChecker;
import io.quantgate.kernel.Kernels;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.NativeLinearKernel;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.results.QuantGateVersion;
import io.quantgate.results.model.ThroughputRow;
import org.opentest4j.TestAbortedException;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measures one configuration of one {@link QuantTest} on one backend through the {@link Harness}: the perplexity
 * comparison with the baseline and/or the throughput rows, the gates on them, and the re-measurements an inconclusive
 * gate asks for (SPEC §5). Every backend, {@code native} included, is reached through the backend SPI; the baseline
 * and the throughput reference run on {@code native}, the reference engine. The caller holds {@link Harness#lock()}.
 */
final class Measurement {
    /** The engine baselines and references run on. */
    static final String REFERENCE_BACKEND = "native";

    private final QuantTestSpec spec;
    private final QuantizationConfig config;
    private final String backend;
    private final BenchResources res;
    private final QuantSettings settings;
    private final Harness harness;
    private final ConsoleProgress progress;

    Measurement(QuantTestSpec spec, QuantizationConfig config, String backend, BenchResources res, QuantSettings settings,
                Harness harness, ConsoleProgress progress) {
        this.spec = spec;
        this.config = config;
        this.backend = backend;
        this.res = res;
        this.settings = settings;
        this.harness = harness;
        this.progress = progress;
    }

    QuantResult run() {
        Instant started = Instant.now();
        ActivationMode act = spec.bench().activations();
        String kernel = spec.kernel().map(QuantTestSpec.KernelSpec::spec).orElse(null);
        List<GateResult> gates = new ArrayList<>();
        String ran = null;
        ComparisonResult comparison = null;
        int pplRemeasures = 0;
        ModelPool pool = null;
        ModelCost cost = null;
        if (spec.needsModel()) {
            res.weights(); // fail early (missing or corrupt model) before any long measurement
            pool = res.pool();
            Subject subject = Subject.model(backend, kernel, config, act);
            RunPlan plan;
            try {
                plan = pool.plan(subject);
            } catch (ModelPool.BackendUnavailableException e) {
                throw new TestAbortedException(e.getMessage() + " (available: " + String.join(", ",
                        BackendRegistry.available()) + ")", e);
            } catch (IllegalArgumentException e) {
                throw new TestAbortedException(BackendRegistry.notAvailable(backend), e);
            }
            if (!plan.runnable()) {
                // never another format under this label: the invocation says what the engine cannot do
                throw new TestAbortedException("backend '" + backend + "' cannot run " + config.label() + ": "
                        + plan.cannotRun());
            }
            // what the opened engine runs (activations and kernel included), opened once for the run
            ran = pool.open(subject, 1).plan().describe();
            progress.line(backend + " runs " + ran);
            cost = ModelCost.of(res.engineWeights(), config);
            if (spec.perplexity().isPresent()) {
                Harness.PerplexityMeasurement p = perplexity(spec.perplexity().get(), pool, subject, gates);
                comparison = p.comparison();
                pplRemeasures = p.remeasures();
            }
        }
        if (spec.kernelCheck().isPresent()) {
            gates.add(kernelCheck(spec.kernelCheck().get(), kernel));
        }
        ThroughputResult throughput = null;
        if (spec.throughput().isPresent()) {
            throughput = throughput(spec.throughput().get(), pool, gates, kernel);
        }
        if (ran == null) {
            ran = "kernel " + (kernel == null ? NativeLinearKernel.NAME : kernel) + " on " + config.label();
        }
        return new QuantResult(spec.testName(), config.label(), spec.bench().baseline().label(), backend,
                kernel == null ? null : Subject.model(backend, kernel, config, act).kernelName(), ran, act.id(),
                inputs(), cost == null ? Double.NaN : cost.compressionRatio(),
                cost == null ? -1 : cost.weightBytesPerToken(), comparison, pplRemeasures, throughput, gates, started,
                Instant.now());
    }

    /** The correctness gate: every config on random shapes against the Java oracle (docs/kernels.md bounds). */
    private GateResult kernelCheck(QuantTestSpec.KernelCheckSpec k, String kernel) {
        ConfigId id = QuantTestSpec.uniformId(spec.testName(), "@QuantConfig", config);
        LinearKernel lk;
        try {
            lk = Kernels.byName(kernel == null ? NativeLinearKernel.NAME : kernel);
        } catch (IllegalArgumentException e) {
            throw QuantTestSpec.error(spec.testName(), "@Kernel: " + e.getMessage());
        }
        lk.unavailableReason().ifPresent(why -> {
            throw new TestAbortedException("kernel '" + lk.name() + "' is not available here: " + why);
        });
        progress.line(String.format(Locale.ROOT, "kernel check of %s on %s: %d random shapes, M up to %d, %s activations",
                lk.name(), id, k.cases(), k.maxBatch(), k.activations().id()));
        KernelChecker.Result r = KernelChecker.check(lk, id, k.activations(), k.cases(), k.seed(), k.maxBatch(),
                k.boundFactor());
        String subject = "worst |error| / bound of kernel " + lk.name() + " on " + id + " over " + r.cases()
                + " shapes (" + r.outputs() + " outputs)";
        String compared = "the Java oracle (exact product of the same dequantized weights), bound of docs/kernels.md"
                + (k.boundFactor() == 1.0 ? "" : String.format(Locale.ROOT, " x %.3g (@KernelCheck(boundFactor))",
                k.boundFactor()));
        String note = r.passed() ? "worst at " + r.worstCase()
                : r.violations() + " output(s) beyond the bound; first: " + r.firstFailure();
        progress.line(subject + " = " + String.format(Locale.ROOT, "%.3g", r.worstRatio()) + (r.passed() ? " -> PASS"
                : " -> FAIL: " + r.firstFailure()));
        // deterministic: the same seed checks the same cases, so the estimate is its own interval
        return IntervalGate.evaluate("kernelCheck", subject, GateResult.Bound.AT_MOST, 1.0, r.worstRatio(),
                r.worstRatio(), r.worstRatio(), 1.0, compared, note);
    }

    private Harness.PerplexityMeasurement perplexity(QuantTestSpec.PerplexitySpec p, ModelPool pool, Subject subject,
                                                     List<GateResult> gates) {
        int seq = res.weights().config().seqLen();
        if (p.ctx() > seq) {
            throw QuantTestSpec.error(spec.testName(), "@Perplexity(ctx) " + p.ctx() + " exceeds the context of " + seq
                    + " positions of " + res.modelName());
        }
        int[] tokens = res.tokens();
        int available = availableChunks(tokens.length, p);
        if (available < 1) {
            throw QuantTestSpec.error(spec.testName(), res.datasetPath() + " holds " + tokens.length
                    + " tokens, fewer than one chunk of ctx " + p.ctx());
        }
        int chunks = p.chunks() == 0 ? available : Math.min(p.chunks(), available);
        int max = p.chunks() == 0 ? available : Math.min(p.maxChunks(), available);
        Subject baseline = Subject.model(REFERENCE_BACKEND, spec.bench().baseline(), spec.bench().activations());
        PerplexityOptions o = p.options(chunks, settings.confidence()).withProgress(progress.perplexity());
        String unit = p.mode() == PerplexityOptions.Mode.SLIDING ? "windows" : "chunks";
        Harness.PerplexityMeasurement m;
        try {
            m = harness.perplexity(new PerplexityPlan(subject, baseline, o, chunks, max), pool, tokens,
                    c -> settings.remeasure() && Verdict.combine(qualityGates(c, p, unit)) == Verdict.INCONCLUSIVE);
        } catch (ModelPool.NoLogitsException e) {
            throw new TestAbortedException(e.getMessage(), e);
        }
        ComparisonResult c = m.comparison();
        List<GateResult> q = qualityGates(c, p, unit);
        Verdict v = Verdict.combine(q);
        progress.line(c.summary() + (q.isEmpty() ? "" : " -> " + v));
        if (v == Verdict.INCONCLUSIVE) {
            String why = !settings.remeasure() ? "re-measuring is off (quantgate.remeasure=false)"
                    : m.remeasures() > 0 ? "still inconclusive after " + m.remeasures() + " re-measurement(s) up to "
                    + c.chunks() + " chunks"
                    : "no more chunks to re-measure with (" + c.chunks() + " of " + available + " available, limit "
                    + max + ")";
            q = q.stream().map(g -> g.verdict() == Verdict.INCONCLUSIVE
                    ? g.withVerdict(Verdict.INCONCLUSIVE, join(g.note(), why)) : g).toList();
        }
        gates.addAll(q);
        if (!Double.isNaN(p.maxEngineDeltaPercent()) && !backend.equals(REFERENCE_BACKEND)) {
            gates.add(engineAgreement(p, pool, subject, o.withChunks(c.chunks()).withProgress(null), c.chunks(),
                    tokens, unit));
        }
        return m;
    }

    /**
     * The same configuration on this engine and on the reference engine, on the same chunks: a paired comparison
     * whose |Δ PPL %| must stay within {@code @Perplexity(maxEngineDeltaPercent)}.
     */
    private GateResult engineAgreement(QuantTestSpec.PerplexitySpec p, ModelPool pool, Subject subject,
                                       PerplexityOptions o, int chunks, int[] tokens, String unit) {
        Subject ref = Subject.model(REFERENCE_BACKEND, config, spec.bench().activations());
        ComparisonResult e;
        try {
            e = harness.perplexity(new PerplexityPlan(subject, ref, o, chunks, chunks), pool, tokens,
                    Harness.PerplexityPolicy.NEVER).comparison();
        } catch (ModelPool.NoLogitsException x) {
            throw new TestAbortedException(x.getMessage(), x);
        }
        // |Δ%| and the interval of |Δ%| from the paired interval of Δ% at the quality gates' level
        ComparisonResult g0 = QualityGates.atLevel(e, settings.qualityGateConfidence());
        double lo = g0.deltaPercentCi().low(), hi = g0.deltaPercentCi().high();
        double absLo = lo <= 0 && hi >= 0 ? 0 : Math.min(Math.abs(lo), Math.abs(hi));
        double absHi = Math.max(Math.abs(lo), Math.abs(hi));
        String ranHere = pool.open(subject, o.ctx()).plan().describe();
        String ranRef = pool.open(ref, o.ctx()).plan().describe();
        String note = String.format(Locale.ROOT, "%s PPL %.6f vs %s PPL %.6f (KLD %.3g, same top %.2f%%) on %d %s "
                        + "of %s; %s ran %s; %s ran %s", backend, e.pplQuant(), REFERENCE_BACKEND, e.pplBase(),
                e.meanKld(), e.sameTopPercent(), e.chunks(), unit, res.datasetPath(), backend, ranHere,
                REFERENCE_BACKEND, ranRef);
        GateResult g = IntervalGate.evaluate("maxEngineDeltaPercent", "|PPL(" + backend + ") / PPL("
                        + REFERENCE_BACKEND + ") - 1| %", GateResult.Bound.AT_MOST, p.maxEngineDeltaPercent(),
                Math.abs(e.deltaPercent()), absLo, absHi, g0.deltaPercentCi().level(), config.label() + " on "
                        + REFERENCE_BACKEND + " (the same weights), same chunks of " + res.modelName(), note);
        progress.line("engine agreement: " + note + " -> " + g.verdict());
        return g;
    }

    private List<GateResult> qualityGates(ComparisonResult c, QuantTestSpec.PerplexitySpec p, String unit) {
        String where = c.quant().mode() == PerplexityOptions.Mode.SPREAD ? unit + " spread over" : unit + " of";
        String compared = String.format(Locale.ROOT, "%s on the same %d %s %s (ctx %d)",
                spec.bench().baseline().label(), c.chunks(), where, res.datasetPath().getFileName(), p.ctx());
        return QualityGates.evaluate(c, p.thresholds(), compared, settings.qualityGateConfidence());
    }

    private ThroughputResult throughput(QuantTestSpec.ThroughputSpec t, ModelPool pool, List<GateResult> gates,
                                        String kernel) {
        List<ThroughputRow> rows = new ArrayList<>();
        int remeasures = 0;
        // with a @Kernel and no reference config, the reference is the same config on the reference kernel
        QuantizationConfig refConfig = t.reference() == null ? config : t.reference();
        String refKernel = spec.kernel().map(QuantTestSpec.KernelSpec::reference).orElse(NativeLinearKernel.NAME);
        if (t.level() == Throughput.Level.KERNEL) {
            if (!BackendRegistry.isAvailable(backend)) {
                throw new TestAbortedException(BackendRegistry.notAvailable(backend));
            }
            if (!backend.equals(REFERENCE_BACKEND)) {
                throw new TestAbortedException("KERNEL rows time a linear kernel, not an engine; backend '" + backend
                        + "' is compared at model level (PREFILL, DECODE), or its kernels with ./quantgate bench "
                        + "onnx-kernels");
            }
            ConfigId cfg = QuantTestSpec.uniformId(spec.testName(), "@QuantConfig", config);
            ConfigId ref = QuantTestSpec.uniformId(spec.testName(), "@Throughput(reference)", refConfig);
            List<int[]> shapes = t.shapes().isEmpty() ? res.linearShapes() : t.shapes();
            for (int[] s : shapes) {
                for (int m : t.batches()) {
                    ThroughputPlan plan = ThroughputPlan.against(new Workload.Kernel(s[0], s[1], m),
                            Subject.kernel(refKernel, ref, t.activations()),
                            List.of(Subject.kernel(kernel == null ? NativeLinearKernel.NAME : kernel, cfg,
                                    t.activations())), t.plan());
                    remeasures += measureRow(plan, null, t, gates, rows);
                }
            }
        } else {
            int tokens = t.tokens();
            int seq = res.weights().config().seqLen();
            if ((long) tokens + t.depth() > seq) {
                throw QuantTestSpec.error(spec.testName(), (t.depth() > 0 ? "@Throughput(depth) " + t.depth()
                        + " + tokens " + tokens : "@Throughput(tokens) " + tokens) + " exceeds the context of " + seq
                        + " positions of " + res.modelName());
            }
            if (t.depth() > 0) {
                // before any round, as the bench commands do: an engine that decodes only from an empty cache cannot
                // take this row (an abort, like a config the engine cannot run), and nothing is measured in part
                BackendModel subjectModel = pool.open(Subject.model(backend, kernel, config, t.activations()),
                        tokens + t.depth());
                java.util.Optional<String> why = subjectModel.cannotDecodeAfterPrompt();
                if (why.isPresent()) {
                    throw new TestAbortedException("@Throughput(depth = " + t.depth() + "): " + why.get());
                }
            }
            Workload w = t.level() == Throughput.Level.PREFILL ? new Workload.Prefill(tokens)
                    : new Workload.Decode(tokens, t.depth());
            String refEngineKernel = refKernel.equals(NativeLinearKernel.NAME) ? null : refKernel;
            ThroughputPlan plan = ThroughputPlan.against(w, Subject.model(REFERENCE_BACKEND, refEngineKernel, refConfig,
                    t.activations()), List.of(Subject.model(backend, kernel, config, t.activations())), t.plan());
            remeasures += measureRow(plan, pool, t, gates, rows);
        }
        return new ThroughputResult(t.level(), config.label(), refConfig.label(), t.activations().id(), t.plan(),
                rows, remeasures);
    }

    /** Measures one plan (one row) with the gates' re-measure policy; returns the re-measurements it took. */
    private int measureRow(ThroughputPlan plan, ModelPool pool, QuantTestSpec.ThroughputSpec t, List<GateResult> gates,
                           List<ThroughputRow> rows) {
        Harness.ThroughputMeasurement m = harness.throughput(plan, pool, (rs, rounds) -> {
            List<GateResult> g = speedGates(rs.getFirst(), t);
            progress.line(rs.getFirst().summary() + (g.isEmpty() ? "" : " -> " + Verdict.combine(g)));
            boolean canShrink = canShrink(g);
            if (Verdict.combine(g) == Verdict.INCONCLUSIVE && canShrink && settings.remeasure()
                    && rounds < t.maxIterations()) {
                return Math.min(t.plan().iterations(), t.maxIterations() - rounds);
            }
            return 0;
        });
        ThroughputRow row = m.rows().getFirst();
        List<GateResult> g = speedGates(row, t);
        if (Verdict.combine(g) == Verdict.INCONCLUSIVE && canShrink(g)) {
            String why = !settings.remeasure() ? "re-measuring is off (quantgate.remeasure=false)"
                    : "still inconclusive after " + row.rounds() + " rounds (maxIterations " + t.maxIterations() + ")";
            g = g.stream().map(x -> x.verdict() == Verdict.INCONCLUSIVE && !Double.isNaN(x.low())
                    ? x.withVerdict(Verdict.INCONCLUSIVE, join(x.note(), why)) : x).toList();
        }
        gates.addAll(g);
        if (!Double.isNaN(t.maxRegressionPercent()) && settings.baselineUpdate()) {
            Path f = store().record(res.modelName(), new StoredBaseline(baselineKey(row, t),
                    MachineFingerprint.current(), SpeedGates.baselineSamples(row), SpeedGates.baselineUnit(row),
                    Instant.now().toString(),
                    QuantGateVersion.get(), spec.testName()));
            progress.line("baseline of " + row.label() + " written to " + f);
        }
        rows.add(row);
        return m.remeasures();
    }

    /** Only an interval that straddles can shrink with more rounds; a missing baseline cannot. */
    private static boolean canShrink(List<GateResult> g) {
        return g.stream().anyMatch(x -> x.verdict() == Verdict.INCONCLUSIVE && !Double.isNaN(x.low()));
    }

    private List<GateResult> speedGates(ThroughputRow row, QuantTestSpec.ThroughputSpec t) {
        List<GateResult> g = new ArrayList<>();
        if (!Double.isNaN(t.minSpeedupOver())) {
            g.add(SpeedGates.minSpeedup(row, t.minSpeedupOver()));
        }
        if (!Double.isNaN(t.minTokensPerSecond())) {
            g.add(SpeedGates.minRate(row, t.minTokensPerSecond()));
        }
        if (!Double.isNaN(t.maxRegressionPercent())) {
            BaselineStore.Lookup lookup = store().find(res.modelName(), baselineKey(row, t), MachineFingerprint.current());
            g.add(SpeedGates.regression(row, t.plan().outlierSigma(), lookup, t.maxRegressionPercent(),
                    settings.baselineUpdate()));
        }
        return g;
    }

    private BaselineStore store() {
        return new BaselineStore(settings.baselineDir());
    }

    private StoredBaseline.Key baselineKey(ThroughputRow row, QuantTestSpec.ThroughputSpec t) {
        // throughput reads random tokens: neither tokenizer nor dataset enter the measurement
        return new StoredBaseline.Key(res.modelSha256(), null, null, config.label(), backend,
                t.level().name().toLowerCase(Locale.ROOT), row.label(), t.activations().id());
    }

    private QuantResult.Inputs inputs() {
        String model = res.synthetic() ? spec.bench().model() : DataFiles.resolve(spec.bench().model(), res.dataDir()).toString();
        // a kernel check alone reads no model: its architecture stays unknown rather than loading it for a label
        boolean modelRead = spec.needsModel() || spec.throughput().isPresent();
        String arch = modelRead ? res.weights().architecture() : null;
        if (spec.perplexity().isEmpty()) {
            return new QuantResult.Inputs(model, res.modelSha256(), arch, null, null, null, null, 0);
        }
        Path tok = res.tokenizerPath();
        Path data = res.datasetPath();
        return new QuantResult.Inputs(model, res.modelSha256(), arch, tok == null ? null : tok.toString(),
                tok == null ? null : FileHashes.sha256(tok), data.toString(), FileHashes.sha256(data),
                res.tokens().length);
    }

    static int availableChunks(int tokens, QuantTestSpec.PerplexitySpec p) {
        if (tokens < p.ctx()) {
            return 0;
        }
        if (p.mode() == PerplexityOptions.Mode.SLIDING) {
            int stride = p.stride() > 0 ? p.stride() : p.ctx() / 2;
            return (tokens - p.ctx()) / stride + 1;
        }
        return tokens / p.ctx();
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : a + "; " + b;
    }
}
