package io.quantgate.calibration;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.quantize.MixedAssignment;
import io.quantgate.runtime.model.CalibratedWeights;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.TensorNames;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Resolves {@code mixed:auto[<bits>]}: measures each linear tensor's sensitivity to each candidate id — when only that
 * tensor is quantized to that id, the mean KL divergence from the unquantized model's next-token distribution on
 * calibration text (objective {@code kld}), or the change of that text's mean negative log-likelihood (objective
 * {@code ppl}, which can be negative: on text a small model predicts badly, some quantization noise lowers
 * perplexity) — and chooses one id per tensor that minimizes the summed sensitivities under the budget of
 * average bits per weight (codes, scales and zeros over all linear weights).
 *
 * <p>The choice is a multiple-choice knapsack, solved exactly by dynamic programming over the budget in 1/65536
 * steps (bits rounded up, so the answer always fits), then a greedy pass spends what the rounding left on the
 * upgrades with the most sensitivity saved per bit. Additivity of per-tensor KLDs is the usual
 * approximation (as in HAWQ-style and llama.cpp-style allocation); the report measures the result, not the
 * prediction.
 */
public final class MixedAutoResolver {
    private static final int[] GROUPS = {32, 64, 128, 256};

    private MixedAutoResolver() {
    }

    /** The candidate ids: every group of each listed format (int8 also per row). */
    static List<ConfigId> candidates(QuantizationConfig.MixedAuto auto) {
        List<ConfigId> ids = new ArrayList<>();
        for (WeightFormat f : auto.formats()) {
            for (int g : GROUPS) {
                ids.add(ConfigId.of(f, g));
            }
            if (f == WeightFormat.INT8) {
                ids.add(ConfigId.of(f, 0));
            }
        }
        return ids;
    }

    /** Every linear tensor of the model, in model order, with its shape {@code [n, k]}. */
    static Map<String, int[]> linears(LlamaConfig c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        for (int l = 0; l < c.nLayers(); l++) {
            m.put(TensorNames.layer(l, TensorNames.Q), new int[] {c.qDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.K), new int[] {c.kvDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.V), new int[] {c.kvDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.O), new int[] {c.dim(), c.qDim()});
            m.put(TensorNames.layer(l, TensorNames.GATE), new int[] {c.hiddenDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.UP), new int[] {c.hiddenDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.DOWN), new int[] {c.dim(), c.hiddenDim()});
        }
        m.put(TensorNames.LM_HEAD, new int[] {c.vocabSize(), c.dim()});
        return m;
    }

    public static MixedAssignment resolve(CalibratedWeights weights, QuantizationConfig.MixedAuto auto,
                                          int sensitivityChunks, Consumer<String> say) {
        long t0 = System.nanoTime();
        List<ConfigId> cands = candidates(auto);
        Map<String, int[]> tensors = linears(weights.config());
        List<int[]> sample = weights.calibration().sample()
                .subList(0, Math.min(sensitivityChunks, weights.calibration().sample().size()));
        int ctx = weights.calibration().ctx();
        say.accept(String.format(Locale.ROOT, "%s: measuring %d tensors x %d candidate ids on %d calibration chunks "
                + "(objective %s)", auto, tensors.size(), cands.size(), sample.size(),
                auto.objective().name().toLowerCase(Locale.ROOT)));
        String[] names = tensors.keySet().toArray(String[]::new);
        double[][] kld = new double[names.length][cands.size()];
        long[][] bits = new long[names.length][cands.size()];
        long weightsTotal = 0;
        long minBits = 0;
        for (int t = 0; t < names.length; t++) {
            int[] shape = tensors.get(names[t]);
            weightsTotal += (long) shape[0] * shape[1];
            long least = Long.MAX_VALUE;
            for (int ci = 0; ci < cands.size(); ci++) {
                bits[t][ci] = 8 * QuantizedMatrix.packedBytes(cands.get(ci), shape[0], shape[1]);
                least = Math.min(least, bits[t][ci]);
            }
            minBits += least;
        }
        double budget = auto.budgetId() == null ? auto.bitsPerWeight() : bitsPerWeight(auto.budgetId(), tensors);
        requireReachable(minBits, weightsTotal, budget, auto); // before minutes of measuring, not after
        float[][][] base = logSoftmax(weights, new QuantizationConfig.Uniform(ConfigId.of(WeightFormat.FP32)), sample,
                ctx);
        double baseNll = meanNll(base, sample, ctx);
        for (int t = 0; t < names.length; t++) {
            for (int ci = 0; ci < cands.size(); ci++) {
                QuantizationConfig only = new QuantizationConfig.Mixed(List.of(
                        new QuantizationConfig.Rule(names[t], cands.get(ci))));
                float[][][] q = logSoftmax(weights, only, sample, ctx);
                kld[t][ci] = auto.objective() == QuantizationConfig.MixedAuto.Objective.PPL
                        ? meanNll(q, sample, ctx) - baseNll : meanKld(base, q);
            }
            say.accept(String.format(Locale.ROOT, "%s: %d/%d %s, most sensitive to %s (%.2e), least to %s (%.2e), %.1f s",
                    auto, t + 1, names.length, names[t], cands.get(argmax(kld[t])), max(kld[t]),
                    cands.get(argmin(kld[t])), min(kld[t]), (System.nanoTime() - t0) / 1e9));
        }
        int[] choice = choose(kld, bits, (double) weightsTotal * budget, budget, auto);
        Map<String, ConfigId> ids = new LinkedHashMap<>();
        Map<String, Double> sens = new LinkedHashMap<>();
        long used = 0;
        for (int t = 0; t < names.length; t++) {
            ids.put(names[t], cands.get(choice[t]));
            sens.put(names[t], kld[t][choice[t]]);
            used += bits[t][choice[t]];
        }
        MixedAssignment a = new MixedAssignment(auto, ids, sens, (double) used / weightsTotal, budget,
                weights.calibration().toString());
        say.accept(String.format(Locale.ROOT, "%s: %.4f bits/weight reached (budget %.4f): %s; predicted " + (auto.objective()
                        == QuantizationConfig.MixedAuto.Objective.PPL ? "ΔNLL" : "KLD") + " %.3e, %.1f s",
                auto, a.bitsPerWeight(), budget, a.summary(), a.predicted(),
                (System.nanoTime() - t0) / 1e9));
        return a;
    }

    /** Bits per weight of {@code id} over these tensors (codes, scales, zeros; short groups included). */
    static double bitsPerWeight(ConfigId id, Map<String, int[]> tensors) {
        long bits = 0;
        long weights = 0;
        for (int[] s : tensors.values()) {
            bits += 8 * QuantizedMatrix.packedBytes(id, s[0], s[1]);
            weights += (long) s[0] * s[1];
        }
        return (double) bits / weights;
    }

    /**
     * One candidate index per tensor minimizing {@code Σ kld} subject to {@code Σ bits ≤ budgetBits}.
     *
     * @throws IllegalArgumentException when even the smallest candidates exceed the budget
     */
    static int[] choose(double[][] kld, long[][] bits, double budgetBits, double budgetPerWeight,
                        QuantizationConfig.MixedAuto auto) {
        int n = kld.length;
        long minBits = 0;
        for (long[] b : bits) {
            minBits += java.util.Arrays.stream(b).min().orElseThrow();
        }
        requireReachable(minBits, budgetBits / budgetPerWeight, budgetPerWeight, auto);
        int[] choice = knapsack(kld, bits, budgetBits);
        // greedy: spend what the rounding left on the best sensitivity saved per extra bit, while it fits
        long used = total(choice, bits);
        while (true) {
            int bt = -1;
            int bc = -1;
            double best = 0;
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < kld[t].length; c++) {
                    long extra = bits[t][c] - bits[t][choice[t]];
                    double saved = kld[t][choice[t]] - kld[t][c];
                    if (saved <= 0 || used + extra > budgetBits) {
                        continue;
                    }
                    double rate = extra <= 0 ? Double.POSITIVE_INFINITY : saved / extra;
                    if (rate > best) {
                        best = rate;
                        bt = t;
                        bc = c;
                    }
                }
            }
            if (bt < 0) {
                return choice;
            }
            used += bits[bt][bc] - bits[bt][choice[bt]];
            choice[bt] = bc;
        }
    }

    /** Budget resolution of the knapsack: bits are counted in units of budget/RESOLUTION, rounded up. */
    private static final int RESOLUTION = 1 << 16;

    /**
     * Exact multiple-choice knapsack by dynamic programming over the budget in {@link #RESOLUTION} units, each
     * candidate's bits rounded up (so every answer truly fits; at most one unit per tensor of the budget is lost to
     * rounding, which the greedy pass then spends). When rounding leaves no feasible state, the smallest candidates.
     */
    private static int[] knapsack(double[][] kld, long[][] bits, double budgetBits) {
        int n = kld.length;
        double unit = budgetBits / RESOLUTION;
        int cap = RESOLUTION + n; // rounding up costs at most one unit per tensor: states above RESOLUTION are checked
        final double inf = Double.POSITIVE_INFINITY;
        double[] cost = new double[cap + 1];
        java.util.Arrays.fill(cost, inf);
        cost[0] = 0;
        short[][] pickAt = new short[n][cap + 1];
        for (int t = 0; t < n; t++) {
            double[] next = new double[cap + 1];
            java.util.Arrays.fill(next, inf);
            for (int c = 0; c < kld[t].length; c++) {
                int w = units(bits[t][c], unit, cap);
                for (int b = 0; b + w <= cap; b++) {
                    if (cost[b] == inf) {
                        continue;
                    }
                    double v = cost[b] + kld[t][c];
                    if (v < next[b + w]) {
                        next[b + w] = v;
                        pickAt[t][b + w] = (short) c;
                    }
                }
            }
            cost = next;
        }
        int[] best = null;
        double bestCost = inf;
        for (int b = 0; b <= cap; b++) {
            if (cost[b] >= bestCost) {
                continue;
            }
            int[] choice = new int[n];
            int end = b;
            for (int t = n - 1; t >= 0; t--) {
                choice[t] = pickAt[t][end];
                end -= units(bits[t][choice[t]], unit, cap);
            }
            if (b <= RESOLUTION || total(choice, bits) <= budgetBits) {
                best = choice;
                bestCost = cost[b];
            }
        }
        if (best == null) { // nothing fits after rounding: the smallest candidates (they fit: checked before)
            best = new int[n];
            for (int t = 0; t < n; t++) {
                for (int c = 1; c < bits[t].length; c++) {
                    if (bits[t][c] < bits[t][best[t]]) {
                        best[t] = c;
                    }
                }
            }
        }
        return best;
    }

    /** Budget units of {@code bits}, rounded up (so a state's units bound its true bits from above). */
    private static int units(long bits, double unit, int cap) {
        return (int) Math.min(cap + 1L, (long) Math.ceil(bits / unit));
    }

    private static void requireReachable(long minBits, double weights, double budgetPerWeight,
                                         QuantizationConfig.MixedAuto auto) {
        if (minBits > budgetPerWeight * weights) {
            throw new IllegalArgumentException("config '" + auto + "': the smallest candidates already take "
                    + String.format(Locale.ROOT, "%.4f", minBits / weights) + " bits per weight on this model, above "
                    + "the budget of " + String.format(Locale.ROOT, "%.4f", budgetPerWeight));
        }
    }

    private static long total(int[] choice, long[][] bits) {
        long s = 0;
        for (int t = 0; t < choice.length; t++) {
            s += bits[t][choice[t]];
        }
        return s;
    }

    /** Log-softmax of the scored half of every chunk (positions ctx/2 .. ctx−2 predict the next token). */
    private static float[][][] logSoftmax(CalibratedWeights weights, QuantizationConfig config, List<int[]> sample,
                                          int ctx) {
        float[][][] out = new float[sample.size()][][];
        try (LlamaModel m = new LlamaModel(weights, config, ActivationMode.FP32, ctx, ctx)) {
            for (int i = 0; i < sample.size(); i++) {
                m.reset();
                int first = ctx / 2;
                float[][] logits = m.forwardBatch(sample.get(i), 0, first);
                float[][] rows = new float[ctx - 1 - first][];
                for (int p = first; p < ctx - 1; p++) {
                    rows[p - first] = logSoftmax(logits[p]);
                }
                out[i] = rows;
            }
        }
        return out;
    }

    private static float[] logSoftmax(float[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : z) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        float[] out = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = (float) (z[i] - lse);
        }
        return out;
    }

    private static double meanKld(float[][][] p, float[][][] q) {
        double s = 0;
        long n = 0;
        for (int i = 0; i < p.length; i++) {
            for (int r = 0; r < p[i].length; r++) {
                double kl = 0;
                for (int v = 0; v < p[i][r].length; v++) {
                    double lp = p[i][r][v];
                    kl += Math.exp(lp) * (lp - q[i][r][v]);
                }
                s += Math.max(0, kl);
                n++;
            }
        }
        return s / n;
    }

    /** Mean negative log-likelihood of the next token over the scored positions. */
    private static double meanNll(float[][][] q, List<int[]> sample, int ctx) {
        double s = 0;
        long n = 0;
        int first = ctx / 2;
        for (int i = 0; i < q.length; i++) {
            for (int r = 0; r < q[i].length; r++) {
                s -= q[i][r][sample.get(i)[first + r + 1]];
                n++;
            }
        }
        return s / n;
    }

    private static int argmax(double[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] > a[b]) {
                b = i;
            }
        }
        return b;
    }

    private static int argmin(double[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) {
            if (a[i] < a[b]) {
                b = i;
            }
        }
        return b;
    }

    private static double max(double[] a) {
        return a[argmax(a)];
    }

    private static double min(double[] a) {
        return a[argmin(a)];
    }
}
