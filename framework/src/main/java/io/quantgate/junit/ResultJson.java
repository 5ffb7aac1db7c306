package io.quantgate.junit;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.ConfidenceInterval;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.evaluation.throughput.ThroughputRow;
import io.quantgate.gate.GateResult;
import io.quantgate.gate.MachineFingerprint;
import io.quantgate.results.model.SampleStats;
import io.quantgate.kernels.format.QuantizationConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A {@link QuantResult} as the JSON tree of one entry of {@code results.json} (documented field by field in
 * {@code docs/results-schema.md}). Non-finite numbers (an unbounded interval, a ratio nobody measured) become
 * {@code null}, so the file is strict JSON.
 */
final class ResultJson {
    private ResultJson() {
    }

    static Map<String, Object> of(QuantResult r, Map<String, Object> test) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("test", test);
        putConfig(m, r.config());
        m.put("baseline_config", r.baselineConfig());
        m.put("backend", r.backend());
        m.put("activations", r.activations());
        QuantResult.Inputs in = r.inputs();
        Map<String, Object> inputs = new LinkedHashMap<>();
        inputs.put("model", in.model());
        inputs.put("model_sha256", in.modelSha256());
        inputs.put("architecture", in.architecture());
        inputs.put("tokenizer", in.tokenizer());
        inputs.put("tokenizer_sha256", in.tokenizerSha256());
        inputs.put("dataset", in.dataset());
        inputs.put("dataset_sha256", in.datasetSha256());
        inputs.put("dataset_tokens", in.dataset() == null ? null : in.datasetTokens());
        m.put("inputs", inputs);
        m.put("compression_ratio", num(r.compressionRatio()));
        m.put("weight_bytes_per_token", r.weightBytesPerToken() < 0 ? null : r.weightBytesPerToken());
        m.put("perplexity", r.perplexity().map(c -> perplexity(c, r.perplexityRemeasures())).orElse(null));
        m.put("throughput", r.throughput().map(ResultJson::throughput).orElse(null));
        List<Object> gates = new ArrayList<>();
        for (GateResult g : r.gates()) {
            gates.add(gate(g));
        }
        m.put("gates", gates);
        m.put("verdict", r.verdict().map(Enum::name).orElse(null));
        MachineFingerprint fp = MachineFingerprint.current();
        Map<String, Object> f = new LinkedHashMap<>(fp.toMap());
        f.put("id", fp.id());
        m.put("fingerprint", f);
        m.put("measurement_started_at", r.startedAt().toString());
        m.put("measurement_finished_at", r.finishedAt().toString());
        m.put("error", null);
        return m;
    }

    /** The record of an invocation whose measurement did not complete (aborted, misconfigured, crashed). */
    static Map<String, Object> error(String config, String baseline, String backend, Map<String, Object> test,
                                     Throwable t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("test", test);
        putConfig(m, config);
        m.put("baseline_config", baseline);
        m.put("backend", backend);
        m.put("perplexity", null);
        m.put("throughput", null);
        m.put("gates", List.of());
        m.put("verdict", null);
        m.put("error", t.getClass().getSimpleName() + ": " + t.getMessage());
        return m;
    }

    private static void putConfig(Map<String, Object> m, String config) {
        m.put("config", config);
        QuantizationConfig qc = QuantizationConfig.parse(config);
        if (qc instanceof QuantizationConfig.Uniform u) {
            m.put("config_format", u.id().format().id());
            m.put("config_group", u.id().group() == 0 ? null : u.id().group());
        } else {
            m.put("config_format", "mixed");
            m.put("config_group", null);
        }
    }

    static Map<String, Object> perplexity(ComparisonResult c, int remeasures) {
        Map<String, Object> m = new LinkedHashMap<>();
        PerplexityResult b = c.base();
        PerplexityResult q = c.quant();
        m.put("ctx", q.ctx());
        m.put("mode", q.mode().name().toLowerCase(Locale.ROOT));
        m.put("stride", q.stride());
        m.put("chunks", c.chunks());
        m.put("scored", c.scored());
        m.put("stream_tokens", q.streamTokens());
        m.put("confidence_level", c.confidenceLevel());
        m.put("ppl_base", num(c.pplBase()));
        m.put("ppl_base_stderr", num(b.pplStdErr()));
        m.put("ppl_quant", num(c.pplQuant()));
        m.put("ppl_quant_stderr", num(q.pplStdErr()));
        m.put("delta", interval(c.deltaCi(), c.delta()));
        m.put("delta_percent", interval(c.deltaPercentCi(), c.deltaPercent()));
        m.put("ratio", interval(c.ratioCi(), c.ratio()));
        m.put("nll_diff", interval(c.nllDiff(), c.nllDiff().estimate()));
        m.put("nll_diff_unpaired", interval(c.nllDiffUnpaired(), c.nllDiffUnpaired().estimate()));
        m.put("kld_mean", interval(c.kldCi(), c.meanKld()));
        m.put("kld_stderr", num(c.kldStdErr()));
        m.put("kld_median", num(c.kldMedian()));
        m.put("kld_p99", num(c.kldP99()));
        m.put("kld_max", num(c.kldMax()));
        m.put("same_top_percent", interval(c.sameTopCi(), c.sameTopPercent()));
        m.put("seconds", num(c.seconds()));
        m.put("base_seconds", num(b.seconds()));
        m.put("quant_seconds", num(q.seconds()));
        m.put("quant_tokens_per_second", num(q.tokensPerSecond()));
        m.put("remeasures", remeasures);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("chunk_nll_base", nums(c.chunkNllBase()));
        s.put("chunk_nll_quant", nums(c.chunkNllQuant()));
        s.put("chunk_kld", nums(c.chunkKld()));
        s.put("chunk_same_top", nums(c.chunkSameTop()));
        s.put("chunk_scored", c.chunkScored());
        m.put("samples", s);
        return m;
    }

    static Map<String, Object> throughput(ThroughputResult t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("level", t.level().name().toLowerCase(Locale.ROOT));
        m.put("config", t.config());
        m.put("reference", t.reference());
        m.put("activations", t.activations());
        m.put("warmup", t.plan().warmup());
        m.put("iterations", t.plan().iterations());
        m.put("max_seconds", t.plan().maxSeconds());
        m.put("outlier_sigma", t.plan().outlierSigma());
        m.put("remeasures", t.remeasures());
        List<Object> rows = new ArrayList<>();
        for (ThroughputRow r : t.rows()) {
            rows.add(row(r));
        }
        m.put("rows", rows);
        return m;
    }

    static Map<String, Object> row(ThroughputRow r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", r.label());
        m.put("level", r.level());
        m.put("n", r.n() == 0 ? null : r.n());
        m.put("k", r.k() == 0 ? null : r.k());
        m.put("batch", r.batch() == 0 ? null : r.batch());
        m.put("tokens", r.tokens() == 0 ? null : r.tokens());
        m.put("unit", r.unit());
        m.put("bytes_per_call", r.bytesPerCall());
        m.put("warmup_rounds", r.warmupRounds());
        m.put("rounds", r.rounds());
        m.put("budget_cut", r.budgetCut());
        m.put("confidence_level", r.confidenceLevel());
        m.put("rate", stats(r.rate()));
        m.put("rate_ci", range(r.rateCi()));
        m.put("reference_rate", stats(r.referenceRate()));
        m.put("speedup", stats(r.speedup()));
        m.put("speedup_ci", range(r.speedupCi()));
        m.put("probe_gbs", stats(r.probe()));
        m.put("fraction_of_bandwidth", stats(r.fractionOfBandwidth()));
        m.put("gflops", num(r.gflops()));
        m.put("ceiling_rate", num(r.ceilingRate()));
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("seconds", nums(r.seconds()));
        s.put("reference_seconds", nums(r.referenceSeconds()));
        s.put("probe_gbs", nums(r.probeGbs()));
        s.put("rates", nums(r.rates()));
        s.put("reference_rates", nums(r.referenceRates()));
        s.put("speedups", nums(r.speedups()));
        m.put("samples", s);
        return m;
    }

    static Map<String, Object> gate(GateResult g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", g.name());
        m.put("subject", g.subject());
        m.put("bound", g.bound().name().toLowerCase(Locale.ROOT));
        m.put("threshold", num(g.threshold()));
        m.put("estimate", num(g.estimate()));
        m.put("low", num(g.low()));
        m.put("high", num(g.high()));
        m.put("level", g.level());
        m.put("compared_with", g.comparedWith());
        m.put("verdict", g.verdict().name());
        m.put("note", g.note());
        m.put("message", g.message());
        return m;
    }

    static Map<String, Object> stats(SampleStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", s.n());
        m.put("dropped", s.dropped());
        m.put("median", num(s.median()));
        m.put("mean", num(s.mean()));
        m.put("sd", num(s.sd()));
        m.put("min", num(s.min()));
        m.put("max", num(s.max()));
        m.put("p5", num(s.p5()));
        m.put("p95", num(s.p95()));
        return m;
    }

    private static Map<String, Object> interval(ConfidenceInterval ci, double estimate) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("estimate", num(estimate));
        m.put("low", num(ci.low()));
        m.put("high", num(ci.high()));
        m.put("level", ci.level());
        return m;
    }

    private static Map<String, Object> range(double[] lowHigh) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("low", num(lowHigh[0]));
        m.put("high", num(lowHigh[1]));
        return m;
    }

    static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static List<Double> nums(double[] v) {
        List<Double> out = new ArrayList<>(v.length);
        for (double x : v) {
            out.add(num(x));
        }
        return out;
    }
}
