package io.quantgate.junit;

import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.evaluation.throughput.InterleavedSampler;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.LlamaLogitsModel;
import io.quantgate.evaluation.PerplexityComparison;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.evaluation.throughput.BandwidthProbe;
import io.quantgate.evaluation.throughput.SamplingPlan;
import io.quantgate.evaluation.throughput.ThroughputBench;
import io.quantgate.evaluation.throughput.ThroughputRow;
import io.quantgate.gate.BaselineStore;
import io.quantgate.gate.GateResult;
import io.quantgate.gate.MachineFingerprint;
import io.quantgate.gate.QualityGates;
import io.quantgate.gate.SpeedGates;
import io.quantgate.gate.StoredBaseline;
import io.quantgate.gate.Verdict;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.results.QuantGateVersion;
import io.quantgate.runtime.model.LlamaModel;
import org.opentest4j.TestAbortedException;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measures one configuration of one {@link QuantTest} on one backend: the perplexity comparison with the
 * baseline and/or the throughput rows, the gates on them, and the re-measurements an inconclusive gate asks
 * for (SPEC §5). Holds {@link NativeAccess#LOCK} throughout.
 */
final class Measurement {
    private final QuantTestSpec spec;
    private final String config;
    private final String backend;
    private final BenchResources res;
    private final QuantSettings settings;
    private final ConsoleProgress progress;
    private Backend engine;            // null on the native backend
    private BackendModel engineModel;  // the config opened on the engine, closed when the invocation ends

    Measurement(QuantTestSpec spec, String config, String backend, BenchResources res, QuantSettings settings) {
        this.spec = spec;
        this.config = config;
        this.backend = backend;
        this.res = res;
        this.settings = settings;
        this.progress = new ConsoleProgress(settings.progress(), spec.testName() + " [" + config
                + (spec.backends().size() > 1 ? " on " + backend : "") + "]");
    }

    QuantResult run() {
        if (!BackendRegistry.isAvailable(backend)) {
            throw new TestAbortedException(BackendRegistry.notAvailable(backend));
        }
        engine = backend.equals(BackendRegistry.NATIVE) ? null : BackendRegistry.find(backend).orElseThrow();
        NativeAccess.LOCK.lock();
        try {
            if (engine != null) {
                RunPlan plan = engine.plan(res.weights(), config);
                if (!plan.runnable()) {
                    // never another format under this label: the invocation says what the engine cannot do
                    throw new TestAbortedException("backend '" + backend + "' cannot run " + config + ": " + plan.cannotRun());
                }
                progress.line(backend + " runs " + plan.describe());
            }
            return measure();
        } finally {
            try {
                if (engineModel != null) {
                    engineModel.close();
                }
            } finally {
                engineModel = null;
                NativeAccess.LOCK.unlock();
            }
        }
    }

    /** The config opened on the other engine (once per invocation), with at least {@code context} positions. */
    private BackendModel openEngine(int context) {
        if (engineModel != null && engineModel.contextLength() < context) {
            engineModel.close();
            engineModel = null;
        }
        if (engineModel == null) {
            BackendOptions o = BackendOptions.defaults().withContextLength(Math.max(context, 16));
            Path tok = res.tokenizerPathOrNull();
            if (tok != null) {
                o = o.with("tokenizer", tok.toString());
            }
            engineModel = engine.open(res.weights(), config, o);
        }
        return engineModel;
    }

    private QuantResult measure() {
        Instant started = Instant.now();
        ActivationMode act = spec.bench().activations();
        List<GateResult> gates = new ArrayList<>();
        double compression = Double.NaN;
        long weightBytes = -1;
        ComparisonResult comparison = null;
        int pplRemeasures = 0;
        ThroughputResult throughput = null;
        res.weights(); // fail early (missing or corrupt model) before any long measurement

        if (spec.perplexity().isPresent()) {
            QuantTestSpec.PerplexitySpec p = spec.perplexity().get();
            int seq = res.weights().config().seqLen();
            if (p.ctx() > seq) {
                throw QuantTestSpec.error(spec.testName(), "@Perplexity(ctx) " + p.ctx() + " exceeds the context of "
                        + seq + " positions of " + res.modelName());
            }
            int[] tokens = res.tokens();
            LlamaModel quant = res.variant(config, act, p.ctx());
            compression = quant.compressionRatio();
            weightBytes = quant.weightBytesPerToken();
            LogitsModel quantLogits = new LlamaLogitsModel(quant);
            if (engine != null) {
                BackendModel bm = openEngine(p.ctx());
                quantLogits = bm.logits().orElseThrow(() -> new TestAbortedException("backend '" + backend
                        + "' gives no perplexity for " + config + ": " + bm.plan().noLogits()));
            }
            CachingLogitsModel base = res.baseline(spec.bench().baseline(), act, p.ctx());
            int available = availableChunks(tokens.length, p);
            if (available < 1) {
                throw QuantTestSpec.error(spec.testName(), res.datasetPath() + " holds " + tokens.length
                        + " tokens, fewer than one chunk of ctx " + p.ctx());
            }
            int chunks = p.chunks() == 0 ? available : Math.min(p.chunks(), available);
            int max = p.chunks() == 0 ? available : Math.min(p.maxChunks(), available);
            while (true) {
                progress.line(String.format(Locale.ROOT, "perplexity vs %s, %d %s of %d tokens%s",
                        spec.bench().baseline(), chunks, p.mode() == PerplexityOptions.Mode.SLIDING ? "windows" : "chunks",
                        p.ctx(), pplRemeasures > 0 ? " (re-measure " + pplRemeasures + ")" : ""));
                PerplexityOptions o = p.options(chunks, settings.confidence()).withProgress(progress.perplexity());
                comparison = PerplexityComparison.compare(quantLogits, base, tokens, o);
                String compared = String.format(Locale.ROOT, "%s on the same %d %s of %s (ctx %d)",
                        spec.bench().baseline(), comparison.chunks(),
                        p.mode() == PerplexityOptions.Mode.SLIDING ? "windows" : "chunks",
                        res.datasetPath().getFileName(), p.ctx());
                List<GateResult> q = QualityGates.evaluate(comparison, p.thresholds(), compared);
                Verdict v = Verdict.combine(q);
                progress.line(comparison.summary() + (q.isEmpty() ? "" : " -> " + v));
                if (v != Verdict.INCONCLUSIVE || !settings.remeasure() || chunks >= max) {
                    if (v == Verdict.INCONCLUSIVE) {
                        String why = !settings.remeasure() ? "re-measuring is off (quantgate.remeasure=false)"
                                : pplRemeasures > 0 ? "still inconclusive after " + pplRemeasures
                                + " re-measurement(s) up to " + chunks + " chunks"
                                : "no more chunks to re-measure with (" + chunks + " of " + available + " available, "
                                + "limit " + max + ")";
                        q = q.stream().map(g -> g.verdict() == Verdict.INCONCLUSIVE
                                ? g.withVerdict(Verdict.INCONCLUSIVE, join(g.note(), why)) : g).toList();
                    }
                    gates.addAll(q);
                    break;
                }
                chunks = Math.min(2 * chunks, max);
                pplRemeasures++;
            }
        }

        if (spec.throughput().isPresent()) {
            QuantTestSpec.ThroughputSpec t = spec.throughput().get();
            List<ThroughputRow> rows = new ArrayList<>();
            int[] remeasures = {0};
            if (t.level() == Throughput.Level.KERNEL && engine != null) {
                throw new TestAbortedException("kernel-level rows run on the native kernels only; backend '" + backend
                        + "' is compared at model level (PREFILL, DECODE) or with ./quantgate bench onnx-kernels");
            }
            if (t.level() == Throughput.Level.KERNEL) {
                ConfigId cfg = QuantTestSpec.uniformId(spec.testName(), "@QuantConfig", config);
                ConfigId ref = QuantTestSpec.uniformId(spec.testName(), "@Throughput(reference)", t.reference());
                List<int[]> shapes = t.shapes().isEmpty() ? res.linearShapes() : t.shapes();
                BandwidthProbe probe = res.probe();
                for (int[] s : shapes) {
                    for (int m : t.batches()) {
                        try (ThroughputBench b = ThroughputBench.kernel(cfg, ref, t.activations(), s[0], s[1], m,
                                settings.workingSetBytes(), probe)) {
                            rows.add(measureRow(b, t, gates, remeasures));
                        }
                    }
                }
            } else {
                int tokens = t.tokens();
                int seq = res.weights().config().seqLen();
                if (tokens > seq) {
                    throw QuantTestSpec.error(spec.testName(), "@Throughput(tokens) " + tokens + " exceeds the context of "
                            + seq + " positions of " + res.modelName());
                }
                LlamaModel model = res.variant(config, t.activations(), tokens);
                LlamaModel ref = res.variant(t.reference(), t.activations(), tokens);
                compression = model.compressionRatio();
                weightBytes = model.weightBytesPerToken();
                ThroughputBench b;
                if (engine != null) {
                    BackendModel bm = openEngine(tokens);
                    boolean decode = t.level() == Throughput.Level.DECODE;
                    int[] work = new java.util.SplittableRandom(decode ? 43 : 42)
                            .ints(tokens, 0, res.weights().config().vocabSize()).toArray();
                    InterleavedSampler.Trial run = round -> {
                        if (decode) {
                            bm.decode(work);
                        } else {
                            bm.prefill(work);
                        }
                    };
                    b = ThroughputBench.engine(decode, config, backend + ": " + bm.plan().describe(), run, model, ref,
                            t.reference(), tokens, res.probe());
                } else {
                    b = t.level() == Throughput.Level.PREFILL
                            ? ThroughputBench.prefill(model, config, ref, t.reference(), tokens, res.probe())
                            : ThroughputBench.decode(model, config, ref, t.reference(), tokens, res.probe());
                }
                try (b) {
                    rows.add(measureRow(b, t, gates, remeasures));
                }
            }
            throughput = new ThroughputResult(t.level(), config, t.reference(), t.activations().id(), t.plan(), rows,
                    remeasures[0]);
        }
        QuantResult.Inputs inputs = inputs();
        return new QuantResult(spec.testName(), config, spec.bench().baseline(), backend, act.id(), inputs, compression,
                weightBytes, comparison, pplRemeasures, throughput, gates, started, Instant.now());
    }

    private ThroughputRow measureRow(ThroughputBench b, QuantTestSpec.ThroughputSpec t, List<GateResult> gates,
                                     int[] remeasures) {
        SamplingPlan plan = t.plan();
        progress.line(String.format(Locale.ROOT, "%s %s vs %s: %d warmup + %d measured rounds (with a bandwidth probe)",
                t.level().name().toLowerCase(Locale.ROOT), b.label(), t.reference(), plan.warmup(), plan.iterations()));
        b.warmup(plan.warmup());
        b.measure(plan.iterations(), plan.maxSeconds(), progress.throughput(b.label()));
        while (true) {
            ThroughputRow row = b.row(plan.outlierSigma(), settings.confidence());
            List<GateResult> g = speedGates(row, t);
            Verdict v = Verdict.combine(g);
            progress.line(row.summary() + (g.isEmpty() ? "" : " -> " + v));
            // only an interval that straddles can shrink with more rounds; a missing baseline cannot
            boolean canShrink = g.stream().anyMatch(x -> x.verdict() == Verdict.INCONCLUSIVE && !Double.isNaN(x.low()));
            if (v == Verdict.INCONCLUSIVE && canShrink && settings.remeasure() && row.rounds() < t.maxIterations()) {
                int more = Math.min(plan.iterations(), t.maxIterations() - row.rounds());
                progress.line("inconclusive: measuring " + more + " more rounds");
                b.measure(more, plan.maxSeconds(), progress.throughput(b.label()));
                remeasures[0]++;
                continue;
            }
            if (v == Verdict.INCONCLUSIVE && canShrink) {
                String why = !settings.remeasure() ? "re-measuring is off (quantgate.remeasure=false)"
                        : "still inconclusive after " + row.rounds() + " rounds (maxIterations " + t.maxIterations() + ")";
                g = g.stream().map(x -> x.verdict() == Verdict.INCONCLUSIVE && !Double.isNaN(x.low())
                        ? x.withVerdict(Verdict.INCONCLUSIVE, join(x.note(), why)) : x).toList();
            }
            gates.addAll(g);
            if (!Double.isNaN(t.maxRegressionPercent()) && settings.baselineUpdate()) {
                Path f = store().record(res.modelName(), new StoredBaseline(baselineKey(row, t),
                        MachineFingerprint.current(), row.rates(), row.unit(), Instant.now().toString(),
                        QuantGateVersion.get(), spec.testName()));
                progress.line("baseline of " + row.label() + " written to " + f);
            }
            return row;
        }
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
            g.add(SpeedGates.regression(row, lookup, t.maxRegressionPercent(), settings.baselineUpdate()));
        }
        return g;
    }

    private BaselineStore store() {
        return new BaselineStore(settings.baselineDir());
    }

    private StoredBaseline.Key baselineKey(ThroughputRow row, QuantTestSpec.ThroughputSpec t) {
        // throughput reads random tokens: neither tokenizer nor dataset enter the measurement
        return new StoredBaseline.Key(res.modelSha256(), null, null, config, backend,
                t.level().name().toLowerCase(Locale.ROOT), row.label(), t.activations().id());
    }

    private QuantResult.Inputs inputs() {
        String model = res.synthetic() ? spec.bench().model() : DataFiles.resolve(spec.bench().model(), res.dataDir()).toString();
        String arch = res.weights().architecture();
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
