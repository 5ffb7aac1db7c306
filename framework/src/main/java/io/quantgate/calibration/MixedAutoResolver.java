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
 * <p>The choice is a multiple-choice knapsack, solved by Lagrangian relaxation (each tensor takes the id minimizing
 * {@code KLD + λ·bits}, λ bisected to the smallest that meets the budget) and then a greedy pass that spends what
 * budget is left on the upgrades with the most KLD saved per bit. Additivity of per-tensor KLDs is the usual
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
        float[][][] base = logSoftmax(weights, new QuantizationConfig.Uniform(ConfigId.of(WeightFormat.FP32)), sample,
                ctx);
        double baseNll = meanNll(base, sample, ctx);
        String[] names = tensors.keySet().toArray(String[]::new);
        double[][] kld = new double[names.length][cands.size()];
        long[][] bits = new long[names.length][cands.size()];
        long weightsTotal = 0;
        for (int t = 0; t < names.length; t++) {
            int[] shape = tensors.get(names[t]);
            weightsTotal += (long) shape[0] * shape[1];
            for (int ci = 0; ci < cands.size(); ci++) {
                bits[t][ci] = 8 * QuantizedMatrix.packedBytes(cands.get(ci), shape[0], shape[1]);
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
        double budget = auto.budgetId() == null ? auto.bitsPerWeight() : bitsPerWeight(auto.budgetId(), tensors);
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
        if (minBits > budgetBits) {
            throw new IllegalArgumentException("config '" + auto + "': the smallest candidates already take "
                    + String.format(Locale.ROOT, "%.4f", minBits / (budgetBits / budgetPerWeight))
                    + " bits per weight on this model, above the budget of "
                    + String.format(Locale.ROOT, "%.4f", budgetPerWeight));
        }
        // bisect λ: the smallest that meets the budget (λ large enough always does: every tensor at its fewest bits)
        double lo = 0;
        double hi = 1;
        while (total(pick(kld, bits, hi), bits) > budgetBits) {
            hi *= 2;
        }
        for (int it = 0; it < 200; it++) {
            double mid = (lo + hi) / 2;
            if (total(pick(kld, bits, mid), bits) > budgetBits) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        int[] choice = pick(kld, bits, hi);
        // greedy: spend the rest on the best KLD saved per extra bit, while it fits
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

    private static int[] pick(double[][] kld, long[][] bits, double lambda) {
        int[] c = new int[kld.length];
        for (int t = 0; t < kld.length; t++) {
            double best = Double.POSITIVE_INFINITY;
            for (int i = 0; i < kld[t].length; i++) {
                double v = kld[t][i] + lambda * bits[t][i];
                if (v < best || (v == best && bits[t][i] < bits[t][c[t]])) {
                    best = v;
                    c[t] = i;
                }
            }
        }
        return c;
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
