package io.quantgate.gate;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.LlamaLogitsModel;
import io.quantgate.evaluation.PerplexityComparison;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.harness.Harness;
import io.quantgate.harness.MachineInfo;
import io.quantgate.harness.MemorySizing;
import io.quantgate.harness.Sampling;
import io.quantgate.harness.Subject;
import io.quantgate.harness.ThroughputPlan;
import io.quantgate.harness.Workload;
import io.quantgate.kernel.Kernels;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.PreparedLinear;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.results.model.AtomicFiles;
import io.quantgate.results.model.ResultsJson;
import io.quantgate.results.model.ThroughputRow;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.TextFiles;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How often the gates are right (docs/reliability.md): not a test, a study that prints its figures.
 *
 * <p>{@code speed}: {@code reps} repeated gate measurements in one JVM, each a fresh interleaved run of QuantGate's
 * kernel (the reference), the same kernel again (unchanged), and the same kernel made 5 % and 10 % slower (it does its
 * work, then spins for that fraction of the time it took). Counted per subject: the verdicts of
 * {@code minSpeedupOver} against the reference, and of {@code maxRegressionPercent} against a stored baseline recorded
 * from the unchanged kernel by the first repetition.
 *
 * <p>{@code quality}: the whole of WikiText-2 split into runs of {@code chunksPerRun} consecutive chunks; each run is
 * one paired comparison of a config with fp32 on stories260K, gated with limits set just above and just below the
 * whole-file figure (the truth the runs estimate). Counted: the verdicts.
 *
 * <pre>./quantgate study gates speed [reps] | quality [chunksPerRun]</pre>
 */
public final class GateValidityStudy {
    private GateValidityStudy() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "speed";
        Path out = Path.of("target/quantgate");
        Map<String, Object> report = switch (mode) {
            case "speed" -> speed(args.length > 1 ? Integer.parseInt(args[1]) : 200);
            case "quality" -> quality(args.length > 1 ? Integer.parseInt(args[1]) : 8);
            default -> throw new IllegalArgumentException("usage: speed [reps] | quality [chunksPerRun]");
        };
        Path f = AtomicFiles.writeString(out.resolve("gate-validity-" + mode + (args.length > 1 ? "-" + args[1] : "")
                        + System.getProperty("study.confidence", "") + System.getProperty("study.layout", "") + ".json"),
                ResultsJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report));
        System.out.println("written: " + f.toAbsolutePath());
    }

    /** Verdict counts of one gate on one subject. */
    static final class Tally {
        final EnumMap<Verdict, Integer> counts = new EnumMap<>(Verdict.class);

        void add(Verdict v) {
            counts.merge(v, 1, Integer::sum);
        }

        int n() {
            return counts.values().stream().mapToInt(Integer::intValue).sum();
        }

        double rate(Verdict v) {
            return n() == 0 ? Double.NaN : 100.0 * counts.getOrDefault(v, 0) / n();
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("n", n());
            for (Verdict v : Verdict.values()) {
                m.put(v.name().toLowerCase(Locale.ROOT), counts.getOrDefault(v, 0));
            }
            return m;
        }

        String line() {
            return String.format(Locale.ROOT, "n %d: PASS %.1f%%, FAIL %.1f%%, INCONCLUSIVE %.1f%%", n(),
                    rate(Verdict.PASS), rate(Verdict.FAIL), rate(Verdict.INCONCLUSIVE));
        }
    }

    // ------------------------------------------------------------------------------------------------- speed

    /** A kernel that does the wrapped kernel's work and then spins for {@code extra} of the time it took. */
    static final class SlowedKernel implements LinearKernel {
        private final LinearKernel inner;
        private final double extra;
        private final String name;

        SlowedKernel(LinearKernel inner, double extra, String name) {
            this.inner = inner;
            this.extra = extra;
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String description() {
            return inner.name() + " plus " + Math.round(extra * 100) + " % extra time per call";
        }

        @Override
        public Optional<String> unavailableReason() {
            return inner.unavailableReason();
        }

        @Override
        public Set<io.quantgate.kernels.format.WeightFormat> formats() {
            return inner.formats();
        }

        @Override
        public Set<ActivationMode> activationModes() {
            return inner.activationModes();
        }

        @Override
        public PreparedLinear prepare(QuantizedMatrix weights, ActivationMode activations) {
            PreparedLinear p = inner.prepare(weights, activations);
            return new PreparedLinear() {
                @Override
                public String describe() {
                    return p.describe() + " + " + Math.round(extra * 100) + " %";
                }

                @Override
                public long preparedBytes() {
                    return p.preparedBytes();
                }

                @Override
                public void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
                    long t0 = System.nanoTime();
                    p.gemm(x, m, ldx, y, ldy);
                    long until = t0 + (long) ((System.nanoTime() - t0) * (1 + extra));
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                }

                @Override
                public void close() {
                    p.close();
                }
            };
        }
    }

    static Map<String, Object> speed(int reps) {
        String shape = System.getProperty("study.shape", "4096x4096");
        ConfigId id = ConfigId.parse(System.getProperty("study.config", "int4-g128"));
        int m = Integer.getInteger("study.batch", 1);
        double minSpeedup = Double.parseDouble(System.getProperty("study.minSpeedupOver", "0.95"));
        double maxRegression = Double.parseDouble(System.getProperty("study.maxRegressionPercent", "5"));
        // what a user's @Throughput would typically ask: a few warmup rounds, 20 rounds, a 10 s budget
        Sampling sampling = new Sampling(Integer.getInteger("study.warmup", 3), Integer.getInteger("study.iterations", 20),
                10, 2.0);
        LinearKernel nativeKernel = Kernels.byName("native");
        Map<String, LinearKernel> kernels = Map.of("native", nativeKernel, "unchanged", Kernels.byName("native"),
                "slower5", new SlowedKernel(nativeKernel, 0.05, "slower5"),
                "slower10", new SlowedKernel(nativeKernel, 0.10, "slower10"));
        List<String> subjects = List.of("unchanged", "slower5", "slower10");
        String[] nk = shape.split("x");
        Workload.Kernel w = new Workload.Kernel(Integer.parseInt(nk[0]), Integer.parseInt(nk[1]), m);
        Map<String, Tally> speedup = new LinkedHashMap<>();
        Map<String, Tally> regression = new LinkedHashMap<>();
        subjects.forEach(s -> {
            speedup.put(s, new Tally());
            regression.put(s, new Tally());
        });
        List<Double> aaSpeedups = new ArrayList<>();
        StoredBaseline baseline = null;
        long t0 = System.nanoTime();
        int maxRounds = 4 * sampling.iterations(); // @Throughput's default maxIterations
        List<Integer> roundsUsed = new ArrayList<>();
        try (Harness h = new Harness(MemorySizing.defaults(), null, kernels::get)) {
            for (int rep = 0; rep < reps; rep++) {
                for (String s : subjects) {
                    // one test per subject, as @Throughput(minSpeedupOver, maxRegressionPercent) runs it: the
                    // reference and the subject interleaved, more rounds while a gate is inconclusive (up to 4x)
                    StoredBaseline b = baseline;
                    ThroughputPlan plan = ThroughputPlan.against(w, Subject.kernel("native", id, ActivationMode.FP32),
                            List.of(Subject.kernel(s, id, ActivationMode.FP32)), sampling);
                    ThroughputRow row = h.throughput(plan, null, (rs, rounds) -> {
                        List<GateResult> g = gates(rs.getFirst(), minSpeedup, b, sampling, maxRegression);
                        boolean shrinkable = g.stream().anyMatch(x -> x.verdict() == Verdict.INCONCLUSIVE
                                && !Double.isNaN(x.low()));
                        return shrinkable && rounds < maxRounds ? Math.min(sampling.iterations(), maxRounds - rounds) : 0;
                    }).rows().getFirst();
                    roundsUsed.add(row.rounds());
                    List<GateResult> g = gates(row, minSpeedup, b, sampling, maxRegression);
                    speedup.get(s).add(g.get(0).verdict());
                    if (b != null) {
                        regression.get(s).add(g.get(1).verdict());
                    }
                    if (s.equals("unchanged")) {
                        aaSpeedups.add(row.speedup().median());
                        if (baseline == null) {
                            // the first repetition records the unchanged kernel's baseline, as
                            // -Dquantgate.baseline.update=true would
                            baseline = stored(SpeedGates.baselineSamples(row), SpeedGates.baselineUnit(row));
                        }
                    }
                }
                if ((rep + 1) % 10 == 0) {
                    System.out.printf(Locale.ROOT, "%d/%d reps, %.0f s; minSpeedupOver unchanged %s, slower10 %s%n",
                            rep + 1, reps, (System.nanoTime() - t0) / 1e9, speedup.get("unchanged").line(),
                            speedup.get("slower10").line());
                }
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("study", "speed gates");
        report.put("written_at", Instant.now().toString());
        report.put("machine", MachineInfo.machine());
        report.put("workload", w.label() + " " + id + " fp32 activations");
        report.put("sampling", Map.of("warmup", sampling.warmup(), "rounds", sampling.iterations(), "max_seconds",
                sampling.maxSeconds(), "outlier_sigma", sampling.outlierSigma(), "confidence", sampling.confidence()));
        report.put("reps", reps);
        report.put("rounds_per_test_median_max", new int[] {roundsUsed.stream().sorted().toList().get(roundsUsed.size() / 2),
                roundsUsed.stream().mapToInt(Integer::intValue).max().orElse(0)});
        report.put("seconds", (System.nanoTime() - t0) / 1e9);
        report.put("min_speedup_over", minSpeedup);
        report.put("max_regression_percent", maxRegression);
        Map<String, Object> gates = new LinkedHashMap<>();
        for (String s : subjects) {
            gates.put(s, Map.of("minSpeedupOver", speedup.get(s).json(), "maxRegressionPercent",
                    regression.get(s).json()));
        }
        report.put("verdicts", gates);
        double[] aa = aaSpeedups.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        report.put("unchanged_speedup_median_p5_p95", new double[] {aa[aa.length / 2], aa[(int) (0.05 * aa.length)],
                aa[(int) (0.95 * (aa.length - 1))]});
        System.out.println();
        System.out.printf(Locale.ROOT, "speed gates, %d reps of %s %s (%s), minSpeedupOver %.2f, maxRegressionPercent %.0f%n",
                reps, w.label(), id, sampling, minSpeedup, maxRegression);
        for (String s : subjects) {
            System.out.printf(Locale.ROOT, "  %-9s minSpeedupOver      %s%n", s, speedup.get(s).line());
            System.out.printf(Locale.ROOT, "  %-9s maxRegressionPercent %s%n", s, regression.get(s).line());
        }
        System.out.printf(Locale.ROOT, "  unchanged speedup: median %.4f, p5 %.4f, p95 %.4f%n", aa[aa.length / 2],
                aa[(int) (0.05 * aa.length)], aa[(int) (0.95 * (aa.length - 1))]);
        return report;
    }

    /** minSpeedupOver, then (with a baseline) maxRegressionPercent, as the JUnit extension evaluates them. */
    private static List<GateResult> gates(ThroughputRow row, double minSpeedup, StoredBaseline baseline,
                                          Sampling sampling, double maxRegression) {
        List<GateResult> g = new ArrayList<>();
        g.add(SpeedGates.minSpeedup(row, minSpeedup));
        if (baseline != null) {
            g.add(SpeedGates.regression(row, sampling.outlierSigma(), new BaselineStore.Lookup.Found(Path.of("study"),
                    baseline), maxRegression, false));
        }
        return g;
    }

    private static StoredBaseline stored(double[] samples, String unit) {
        StoredBaseline.Key key = new StoredBaseline.Key("study", null, null, "study", "native", "kernel", "study",
                "fp32");
        return new StoredBaseline(key, MachineFingerprint.current(), samples.clone(), unit, Instant.now().toString(),
                "study", "GateValidityStudy");
    }

    // ----------------------------------------------------------------------------------------------- quality

    static Map<String, Object> quality(int chunksPerRun) throws Exception {
        Path data = Path.of(System.getProperty("quantgate.data.dir", "../shared/data"));
        String config = System.getProperty("study.config", "int4-g128");
        int ctx = 512;
        try (ModelWeights weights = ModelFiles.open(data.resolve("llama2c-stories260K/stories260K.bin").toString())) {
            Tokenizer tok = ModelFiles.tokenizer(weights, null);
            int[] tokens = tok.encode(TextFiles.readUtf8(data.resolve("wikitext-2-raw/wiki.test.raw"), "text"), true);
            int runs = tokens.length / (ctx * chunksPerRun);
            List<ComparisonResult> results = new ArrayList<>();
            long t0 = System.nanoTime();
            try (LlamaModel base = LlamaModel.load(weights, "fp32", ActivationMode.FP32);
                 LlamaModel quant = LlamaModel.load(weights, config, ActivationMode.FP32)) {
                LlamaLogitsModel b = new LlamaLogitsModel(base);
                LlamaLogitsModel q = new LlamaLogitsModel(quant);
                PerplexityOptions o = PerplexityOptions.chunked(ctx).withBosToken(tok.bos())
                        .withConfidenceLevel(Double.parseDouble(System.getProperty("study.confidence", "0.95")));
                boolean spread = System.getProperty("study.layout", "contiguous").equals("spread");
                for (int r = 0; r < runs; r++) {
                    int[] slice = new int[ctx * chunksPerRun];
                    for (int c = 0; c < chunksPerRun; c++) {
                        // contiguous: run r reads chunks r·n … r·n+n−1; spread: chunks r, r+runs, r+2·runs, …
                        int chunk = spread ? r + c * runs : r * chunksPerRun + c;
                        System.arraycopy(tokens, chunk * ctx, slice, c * ctx, ctx);
                    }
                    results.add(PerplexityComparison.compare(q, b, slice, o));
                    if ((r + 1) % 20 == 0) {
                        System.out.printf(Locale.ROOT, "%d/%d runs, %.0f s%n", r + 1, runs, (System.nanoTime() - t0) / 1e9);
                    }
                }
            }
            // the truth the runs estimate: the figures over all their chunks together (pooled per-chunk samples)
            double nllB = 0, nllQ = 0, kld = 0;
            long scored = 0;
            for (ComparisonResult c : results) {
                for (int i = 0; i < c.chunks(); i++) {
                    nllB += c.chunkNllBase()[i] * c.chunkScored()[i];
                    nllQ += c.chunkNllQuant()[i] * c.chunkScored()[i];
                    kld += c.chunkKld()[i] * c.chunkScored()[i];
                    scored += c.chunkScored()[i];
                }
            }
            double trueDeltaPercent = 100 * (Math.exp((nllQ - nllB) / scored) - 1);
            double trueKld = kld / scored;
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("study", "quality gates");
            report.put("written_at", Instant.now().toString());
            report.put("machine", MachineInfo.machine());
            report.put("model", "stories260K.bin, " + config + " vs fp32, ctx " + ctx);
            report.put("runs", runs);
            report.put("chunks_per_run", chunksPerRun);
            report.put("layout", System.getProperty("study.layout", "contiguous"));
            report.put("confidence", Double.parseDouble(System.getProperty("study.confidence", "0.95")));
            report.put("true_delta_percent", trueDeltaPercent);
            report.put("true_kld_mean", trueKld);
            // the level the gates decide on (the JUnit extension's quantgate.quality.gateConfidence, default 0.995)
            double gateLevel = Double.parseDouble(System.getProperty("study.gateConfidence",
                    System.getProperty("study.confidence", "0.995")));
            report.put("gate_confidence", gateLevel);
            Map<String, Object> verdicts = new LinkedHashMap<>();
            System.out.printf(Locale.ROOT, "%nquality gates, %d runs of %d chunks of wiki.test.raw, %s vs fp32 on "
                    + "stories260K, gates on %s intervals, %s chunks: whole-text delta %.3f %%, KLD %.5f%n", runs,
                    chunksPerRun, config, gateLevel, System.getProperty("study.layout", "contiguous"), trueDeltaPercent, trueKld);
            for (double off : new double[] {-0.10, -0.05, 0.05, 0.10}) {
                // off < 0: the limit is stricter than the truth (the config is worse than its limit: should not pass)
                double limitD = trueDeltaPercent * (1 + off);
                double limitK = trueKld * (1 + off);
                Tally d = new Tally();
                Tally k = new Tally();
                Tally dBoot = new Tally();
                for (ComparisonResult c : results) {
                    d.add(QualityGates.evaluate(c, new QualityThresholds(Double.NaN, limitD, Double.NaN, Double.NaN), "",
                            gateLevel).getFirst().verdict());
                    double[] ci = bootstrapTDeltaPercent(c, c.confidenceLevel(), 2000, 17);
                    dBoot.add(IntervalGate.decide(GateResult.Bound.AT_MOST, limitD, ci[0], ci[1]));
                    k.add(QualityGates.evaluate(c, new QualityThresholds(Double.NaN, Double.NaN, limitK, Double.NaN), "",
                            gateLevel).getFirst().verdict());
                }
                String label = String.format(Locale.ROOT, "limit %+.0f%% of the truth", off * 100);
                verdicts.put(label, Map.of("maxDeltaPercent", Map.of("limit", limitD, "verdicts", d.json()), "maxKld",
                        Map.of("limit", limitK, "verdicts", k.json())));
                System.out.printf(Locale.ROOT, "  %-24s maxDeltaPercent %.3f: %s%n", label, limitD, d.line());
                System.out.printf(Locale.ROOT, "  %-24s maxKld %.5f:          %s%n", label, limitK, k.line());
                System.out.printf(Locale.ROOT, "  %-24s ΔPPL, bootstrap-t:        %s%n", label, dBoot.line());
            }
            report.put("verdicts", verdicts);
            return report;
        }
    }
    /**
     * The ΔPPL % interval by a bootstrap-t over chunks (resample chunks, studentize each resample's weighted mean of
     * the per-chunk NLL differences), for comparison with the t interval the gates use: it follows skew in the
     * per-chunk differences that a symmetric t interval cannot.
     */
    static double[] bootstrapTDeltaPercent(ComparisonResult c, double level, int reps, long seed) {
        double[] diff = c.chunkNllDiff();
        int[] w = c.chunkScored();
        int n = diff.length;
        double est = mean(diff, w, null);
        double se = se(diff, w, null, est);
        double[] t = new double[reps];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        int[] idx = new int[n];
        for (int r = 0; r < reps; r++) {
            for (int i = 0; i < n; i++) {
                idx[i] = rnd.nextInt(n);
            }
            double m = mean(diff, w, idx);
            double s = se(diff, w, idx, m);
            t[r] = s > 0 ? (m - est) / s : 0;
        }
        Arrays.sort(t);
        double lo = t[(int) Math.floor((1 - level) / 2 * (reps - 1))];
        double hi = t[(int) Math.ceil((1 + level) / 2 * (reps - 1))];
        return new double[] {100 * Math.expm1(est - hi * se), 100 * Math.expm1(est - lo * se)};
    }

    private static double mean(double[] x, int[] w, int[] idx) {
        double s = 0, n = 0;
        for (int i = 0; i < x.length; i++) {
            int j = idx == null ? i : idx[i];
            s += x[j] * w[j];
            n += w[j];
        }
        return s / n;
    }

    private static double se(double[] x, int[] w, int[] idx, double m) {
        int c = x.length;
        double ss = 0, n = 0;
        for (int i = 0; i < c; i++) {
            int j = idx == null ? i : idx[i];
            double r = (x[j] - m) * w[j];
            ss += r * r;
            n += w[j];
        }
        return Math.sqrt(ss * c / (c - 1)) / n;
    }
}
