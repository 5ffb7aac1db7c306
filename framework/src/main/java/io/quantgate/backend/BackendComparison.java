package io.quantgate.backend;

import io.quantgate.evaluation.ConfidenceInterval;
import io.quantgate.evaluation.PerplexityEvaluator;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.results.model.SampleStats;
import io.quantgate.runtime.model.ModelWeights;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Every backend × config on one model, interleaved in one run (SPEC §4): each round runs the pp and tg test of
 * every cell, the order rotating by one cell per round, so all cells see the same drifting machine; throughputs
 * are reported with the ratio to the reference backend on the same config, paired over rounds. A cell whose
 * backend is unavailable or cannot run the config says so ({@code cannot run: <why>}) and nothing else runs in
 * its place.
 */
public final class BackendComparison {

    /** What to measure. */
    public record Settings(List<String> configs, List<Backend> backends, String reference, int pp, int tg, int warmup,
                           int reps, BackendOptions options) {
        public Settings {
            configs = List.copyOf(configs);
            backends = List.copyOf(backends);
            Objects.requireNonNull(reference, "reference");
            if (configs.isEmpty() || backends.isEmpty()) {
                throw new IllegalArgumentException("a comparison needs at least one config and one backend");
            }
            if (pp < 1 || tg < 1 || warmup < 0 || reps < 2) {
                throw new IllegalArgumentException("pp and tg must be ≥ 1, warmup ≥ 0, reps ≥ 2 (got pp " + pp + ", tg "
                        + tg + ", warmup " + warmup + ", reps " + reps + ")");
            }
            if (backends.stream().noneMatch(b -> b.name().equals(reference))) {
                throw new IllegalArgumentException("the reference backend '" + reference + "' is not among the backends "
                        + backends.stream().map(Backend::name).toList());
            }
        }
    }

    /**
     * One backend × config.
     *
     * @param ran       what ran ({@link RunPlan#describe()}), or {@code cannot run: ...} / {@code unavailable: ...}
     *                  / {@code failed: ...}
     * @param pp        prefill tokens/s (null when it did not run)
     * @param ppVsRef   pp ratio to the reference backend on the same config, paired over rounds (null when either did not run)
     */
    public record Cell(String backend, String config, boolean measured, String ran, SampleStats pp, SampleStats tg,
                       double[] ppSamples, double[] tgSamples, ConfidenceInterval ppVsRef, ConfidenceInterval tgVsRef,
                       Double decodeGbs) {
    }

    public record Result(List<Cell> cells, String reference, int pp, int tg, int warmup, int reps) {
        /** The cells as a markdown table, one row per backend × config. */
        public String markdown() {
            StringBuilder s = new StringBuilder();
            s.append(String.format(Locale.ROOT, "| config | backend | what ran | pp%d tok/s | tg%d tok/s | pp vs %s (95%% CI) "
                    + "| tg vs %s (95%% CI) | decode GB/s |%n", pp, tg, reference, reference));
            s.append("|---|---|---|---:|---:|---:|---:|---:|\n");
            for (Cell c : cells) {
                if (!c.measured()) {
                    s.append(String.format(Locale.ROOT, "| %s | %s | %s | – | – | – | – | – |%n", c.config(), c.backend(), c.ran()));
                    continue;
                }
                s.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s |%n", c.config(), c.backend(),
                        c.ran(), stats(c.pp()), stats(c.tg()), ratio(c.ppVsRef()), ratio(c.tgVsRef()),
                        c.decodeGbs() == null ? "–" : String.format(Locale.ROOT, "%.1f", c.decodeGbs())));
            }
            return s.toString();
        }

        private static String stats(SampleStats s) {
            return String.format(Locale.ROOT, s.median() >= 100 ? "%.0f ± %.0f" : "%.2f ± %.2f", s.median(), s.sd());
        }

        private static String ratio(ConfidenceInterval r) {
            return r == null ? "–" : String.format(Locale.ROOT, "%.2f× [%.2f, %.2f]", r.estimate(), r.low(), r.high());
        }
    }

    private BackendComparison() {
    }

    /** Runs the throughput comparison; progress lines go to {@code log}. */
    public static Result throughput(ModelWeights weights, Settings s, PrintStream log) {
        if (s.pp() > s.options().contextLength() || s.tg() > s.options().contextLength()) {
            throw new IllegalArgumentException("pp " + s.pp() + " / tg " + s.tg() + " exceed the context of "
                    + s.options().contextLength());
        }
        List<String> ran = new ArrayList<>();
        List<BackendModel> models = new ArrayList<>();
        List<String[]> keys = new ArrayList<>();
        try {
            for (String config : s.configs()) {
                for (Backend b : s.backends()) {
                    keys.add(new String[] {b.name(), config});
                    models.add(null);
                    var unavailable = b.unavailableReason();
                    if (unavailable.isPresent()) {
                        ran.add("unavailable: " + unavailable.get());
                        continue;
                    }
                    RunPlan plan = b.plan(weights, config);
                    if (!plan.runnable()) {
                        ran.add(plan.describe());
                        continue;
                    }
                    try {
                        long t0 = System.nanoTime();
                        BackendModel m = b.open(weights, config, s.options());
                        models.set(models.size() - 1, m);
                        ran.add(m.plan().describe());
                        log.printf(Locale.ROOT, "loaded %s / %s in %.1f s: %s%n", b.name(), config,
                                (System.nanoTime() - t0) / 1e9, m.plan().describe());
                    } catch (RuntimeException e) {
                        ran.add("failed: " + e.getMessage());
                        log.printf(Locale.ROOT, "%s / %s failed to load: %s%n", b.name(), config, e.getMessage());
                    }
                }
            }
            int n = keys.size();
            double[][] pp = new double[n][s.reps()];
            double[][] tg = new double[n][s.reps()];
            SplittableRandom rnd = new SplittableRandom(42);
            int vocab = weights.config().vocabSize();
            int[] prompt = rnd.ints(s.pp(), 0, vocab).toArray();
            int[] gen = rnd.ints(s.tg(), 0, vocab).toArray();
            List<Integer> live = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (models.get(i) != null) {
                    live.add(i);
                }
            }
            for (int round = 0; round < s.warmup() + s.reps(); round++) {
                int r = round - s.warmup();
                for (int j = 0; j < live.size(); j++) {
                    int i = live.get((j + round) % live.size()); // rotate which cell goes first
                    BackendModel m = models.get(i);
                    if (m == null) {
                        continue; // failed in an earlier round
                    }
                    try {
                        double ppS = m.prefill(prompt);
                        double tgS = m.decode(gen);
                        if (r >= 0) {
                            pp[i][r] = s.pp() / ppS;
                            tg[i][r] = s.tg() / tgS;
                        }
                        log.printf(Locale.ROOT, "%s %d %s / %s: pp%d %.1f tok/s, tg%d %.2f tok/s%n", r < 0 ? "warmup" : "round",
                                (r < 0 ? round : r) + 1, keys.get(i)[0], keys.get(i)[1], s.pp(), s.pp() / ppS, s.tg(), s.tg() / tgS);
                    } catch (RuntimeException e) {
                        ran.set(i, "failed: " + e.getMessage());
                        models.get(i).close();
                        models.set(i, null);
                        log.printf(Locale.ROOT, "%s / %s failed: %s%n", keys.get(i)[0], keys.get(i)[1], e.getMessage());
                    }
                }
            }
            List<Cell> cells = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String backend = keys.get(i)[0], config = keys.get(i)[1];
                if (models.get(i) == null) {
                    cells.add(new Cell(backend, config, false, ran.get(i), null, null, null, null, null, null, null));
                    continue;
                }
                int ref = indexOf(keys, models, s.reference(), config);
                ConfidenceInterval ppRatio = ref < 0 ? null : PairedRatio.of(pp[i], pp[ref], 0.95);
                ConfidenceInterval tgRatio = ref < 0 ? null : PairedRatio.of(tg[i], tg[ref], 0.95);
                SampleStats tgStats = SampleStats.of(tg[i]);
                Double gbs = decodeBytes(keys, models, config, s.tg()).map(bytes -> tgStats.median() * bytes / 1e9)
                        .orElse(null);
                cells.add(new Cell(backend, config, true, ran.get(i), SampleStats.of(pp[i]), tgStats, pp[i], tg[i],
                        ppRatio, tgRatio, gbs));
            }
            return new Result(cells, s.reference(), s.pp(), s.tg(), s.warmup(), s.reps());
        } finally {
            for (BackendModel m : models) {
                if (m != null) {
                    m.close();
                }
            }
        }
    }

    private static int cellIndex(List<String[]> keys, String backend, String config) {
        for (int i = 0; i < keys.size(); i++) {
            if (keys.get(i)[0].equals(backend) && keys.get(i)[1].equals(config)) {
                return i;
            }
        }
        return -1;
    }

    private static int indexOf(List<String[]> keys, List<BackendModel> models, String backend, String config) {
        int i = cellIndex(keys, backend, config);
        return i >= 0 && models.get(i) != null ? i : -1;
    }

    /**
     * Bytes one decode step reads for this config (linear codes, scales and zero points, one embedding row, the KV
     * cache at the average position), from the native model when it ran: the GGUF mappings (F16, Q8_0 = int8-g32,
     * Q4_0 = int4s-g32) store exactly as many bytes per weight, so the figure holds for every backend of the row.
     */
    private static java.util.Optional<Double> decodeBytes(List<String[]> keys, List<BackendModel> models, String config,
                                                          int tg) {
        int i = indexOf(keys, models, NativeBackend.NAME, config);
        if (i < 0 || !(models.get(i) instanceof NativeBackendModel n)) {
            return java.util.Optional.empty();
        }
        var m = n.model();
        return java.util.Optional.of(m.weightBytesPerToken() + (m.kvBytesRead(0) + m.kvBytesRead(tg - 1)) / 2.0);
    }

    /** Perplexity of one config on every backend that gives logits, against the reference backend's. */
    public record PerplexityRow(String backend, String ran, Double ppl, Double pplStdErr, Double relativeToReference,
                                Boolean agrees) {
    }

    /**
     * Perplexity of {@code config} (normally {@code fp16}: the same weights everywhere) on every backend that can
     * give logits; each is compared with the reference backend's and agrees when {@code |ppl/ref − 1| ≤ tolerance}.
     * Backends without logits get a row that says why. The native backend runs with fp32 activations here
     * (weight-only quantization) unless the options say otherwise.
     */
    public static List<PerplexityRow> perplexity(ModelWeights weights, String config, List<Backend> backends,
                                                 String reference, int[] tokens, PerplexityOptions po,
                                                 BackendOptions options, double tolerance, PrintStream log) {
        BackendOptions o = options.properties().containsKey("native.activations") ? options
                : options.with("native.activations", "fp32");
        o = o.withContextLength(Math.max(o.contextLength(), po.ctx()));
        Map<String, PerplexityResult> results = new LinkedHashMap<>();
        Map<String, String> ran = new LinkedHashMap<>();
        for (Backend b : backends) {
            var unavailable = b.unavailableReason();
            if (unavailable.isPresent()) {
                ran.put(b.name(), "unavailable: " + unavailable.get());
                continue;
            }
            RunPlan plan = b.plan(weights, config);
            if (!plan.runnable()) {
                ran.put(b.name(), plan.describe());
                continue;
            }
            if (!plan.givesLogits()) {
                ran.put(b.name(), "no perplexity: " + plan.noLogits());
                continue;
            }
            try (BackendModel m = b.open(weights, config, o)) {
                long t0 = System.nanoTime();
                results.put(b.name(), PerplexityEvaluator.evaluate(m.logits().orElseThrow(), tokens, po));
                ran.put(b.name(), m.plan().describe());
                log.printf(Locale.ROOT, "perplexity %s / %s: %.6f in %.1f s%n", b.name(), config,
                        results.get(b.name()).ppl(), (System.nanoTime() - t0) / 1e9);
            } catch (RuntimeException e) {
                ran.put(b.name(), "failed: " + e.getMessage());
            }
        }
        PerplexityResult ref = results.get(reference);
        List<PerplexityRow> rows = new ArrayList<>();
        for (var e : ran.entrySet()) {
            PerplexityResult r = results.get(e.getKey());
            if (r == null) {
                rows.add(new PerplexityRow(e.getKey(), e.getValue(), null, null, null, null));
                continue;
            }
            Double rel = ref == null ? null : r.ppl() / ref.ppl() - 1;
            rows.add(new PerplexityRow(e.getKey(), e.getValue(), r.ppl(), r.pplStdErr(), rel,
                    rel == null ? null : Math.abs(rel) <= tolerance));
        }
        return rows;
    }
}
