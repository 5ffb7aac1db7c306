package io.quantgate.evaluation;

import io.quantgate.results.model.KldDistribution;

import io.quantgate.results.model.SampleStats;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

/**
 * Paired quality comparison of a quantized model against a baseline on the same token stream
 * (SPEC §3 last item; quality gates of §5).
 *
 * <p>Both models are fed exactly the same chunks (or windows, see {@link PerplexityEvaluator} for the
 * cutting rules), and at every scored position both next-token distributions are computed with a
 * double-precision log-softmax. Per scored token:
 * <ul>
 *   <li>NLL of each model on the true next token;</li>
 *   <li>{@code KL(base ‖ quant) = Σ_v p_base(v) · (log p_base(v) − log p_quant(v))} (nats; llama.cpp's
 *       {@code --kl-divergence} direction);</li>
 *   <li>"same top token": {@code argmax base == argmax quant} (first index on ties).</li>
 * </ul>
 *
 * <p><b>Paired confidence intervals.</b> Tokens inside one chunk are strongly correlated, and the
 * difficulty of the text varies a lot from chunk to chunk; that variation is common to both models
 * and cancels in their difference. So the interval is computed on the <em>per-chunk</em> paired
 * differences, chunks being the independent units:
 * <ol>
 *   <li>For chunk c with n_c scored tokens, {@code S_c = Σ (NLL_quant − NLL_base)} over its tokens.</li>
 *   <li>{@code D = Σ S_c / Σ n_c = meanNLL_quant − meanNLL_base = ln(pplQuant / pplBase)}.</li>
 *   <li>Cluster-robust standard error {@code SE = sqrt(C/(C−1) · Σ_c (S_c − D·n_c)²) / Σ n_c}; with equal
 *       n_c (always true in chunked mode) this is exactly {@code sd(d_c)/√C} of the per-chunk mean
 *       differences {@code d_c}.</li>
 *   <li>{@code CI(D) = D ± t(1 − α/2, C − 1) · SE} (Student t with C − 1 degrees of freedom).</li>
 *   <li>Transformed monotonically: {@code ratio ∈ exp(CI(D))},
 *       {@code deltaPercent ∈ 100·(exp(CI(D)) − 1)} and {@code delta ∈ pplBase·(exp(CI(D)) − 1)}; the
 *       delta interval is conditional on the baseline's PPL on these tokens (the quantity the gate is
 *       about: how much worse the quantized model is on this text).</li>
 * </ol>
 * With fewer than 2 chunks the intervals are unbounded (a gate on them is inconclusive). The same
 * chunk-clustered interval is given for the mean KLD and the same-top-token %. For contrast,
 * {@link ComparisonResult#nllDiffUnpaired()} is the interval two independent means would give.
 */
public final class PerplexityComparison {

    private PerplexityComparison() {
    }

    public static ComparisonResult compare(LogitsModel quant, LogitsModel base, int[] tokens) {
        return compare(quant, base, tokens, PerplexityOptions.defaults());
    }

    public static ComparisonResult compare(LogitsModel quant, LogitsModel base, int[] tokens,
                                           PerplexityOptions options) {
        int vq = ChunkPlan.checkVocab(quant, "quant model");
        int vb = ChunkPlan.checkVocab(base, "base model");
        if (vq != vb) {
            throw new IllegalArgumentException("quant and base models have different vocabulary sizes: " + vq
                    + " vs " + vb);
        }
        int vocab = vb;
        options = ChunkPlan.normalize(tokens, options); // SPREAD over every chunk is CHUNKED
        ChunkPlan plan = ChunkPlan.of(tokens, options);
        List<ChunkPlan.Window> windows = plan.windows;
        int chunks = windows.size();
        int total = plan.totalScored();

        double[] sumB = new double[chunks];
        double[] sumQ = new double[chunks];
        double[] sumDiff = new double[chunks];
        double[] sumKld = new double[chunks];
        double[] sumSame = new double[chunks];
        int[] scored = new int[chunks];
        double[] nllB = new double[total];
        double[] nllQ = new double[total];
        double[] kld = new double[total];
        double[] deltaP = new double[total];
        int[] pos = new int[total];
        Scores acc = new Scores(nllB, nllQ, kld, deltaP, pos, sumB, sumQ, sumDiff, sumKld, sumSame, new double[vocab]);
        int[] offset = plan.tokenOffsets();
        LongAdder callsB = new LongAdder();
        LongAdder callsQ = new LongAdder();
        long t0 = System.nanoTime();
        // one window: both models' logits, then its scores at the window's own chunk and token indices
        WindowTask window = (q, b, scores, i) -> {
            ChunkPlan.Window w = windows.get(i);
            int[] input = plan.input(w, vocab);
            long s = System.nanoTime();
            float[][] lb = ChunkPlan.call(b, input, w.firstLogit(), "base model");
            long m = System.nanoTime();
            float[][] lq = ChunkPlan.call(q, input, w.firstLogit(), "quant model");
            callsB.add(m - s);
            callsQ.add(System.nanoTime() - m);
            scores.score(lb, lq, input, w, chunks, offset[i]);
        };
        // then, in window order: the running figures and progress
        PerplexityOptions o = options;
        var running = new Object() {
            double b;
            double q;
            double kl;
            int k;
        };
        IntConsumer inOrder = i -> {
            int c = windows.get(i).index();
            scored[c] = windows.get(i).scored();
            running.k += scored[c];
            running.b += sumB[c];
            running.q += sumQ[c];
            running.kl += sumKld[c];
            if (o.progress() != null) {
                o.progress().accept(new Progress(c + 1, chunks, running.k, Math.exp(running.q / running.k),
                        Math.exp(running.b / running.k), running.kl / running.k, (System.nanoTime() - t0) / 1e9));
            }
        };
        int threads = quant instanceof ConcurrentLogitsModel cq && base instanceof ConcurrentLogitsModel cb
                ? Math.min(Math.min(cq.concurrency(), cb.concurrency()), chunks) : 1;
        if (threads > 1) {
            // one window per thread at a time, each thread with a sequence of both models and a scratch of its own
            WindowRunner.run(chunks, threads,
                    () -> Pair.open((ConcurrentLogitsModel) quant, (ConcurrentLogitsModel) base, acc),
                    (pair, i) -> window.run(pair.quant, pair.base, pair.scores, i), inOrder);
        } else {
            for (int i = 0; i < chunks; i++) {
                window.run(quant, base, acc, i);
                inOrder.accept(i);
            }
        }
        // each model's time in its calls per thread (the threads ran side by side)
        long nanosB = callsB.sum() / threads;
        long nanosQ = callsQ.sum() / threads;
        double seconds = (System.nanoTime() - t0) / 1e9;
        long same = 0;
        for (double v : sumSame) {
            same += (long) v; // whole counts per chunk
        }

        PerplexityResult rb = PerplexityResult.build(plan, options, sumB, scored, nllB, pos, nanosB / 1e9);
        PerplexityResult rq = PerplexityResult.build(plan, options, sumQ, scored, nllQ, pos.clone(), nanosQ / 1e9);
        double level = options.confidenceLevel();
        int n = total;

        ConfidenceInterval diff = Statistics.clusteredMean(sumDiff, scored, level);
        ConfidenceInterval ciB = Statistics.clusteredMean(sumB, scored, level);
        ConfidenceInterval ciQ = Statistics.clusteredMean(sumQ, scored, level);
        ConfidenceInterval unpaired = Statistics.independentDifference(ciQ, ciB, chunks, level);
        double pplB = rb.ppl();
        double pplQ = rq.ppl();
        // Exact D as difference of the two means (the clustered estimate is the same number up to rounding).
        double d = rq.meanNll() - rb.meanNll();
        diff = new ConfidenceInterval(d, diff.stdErr(), diff.low() - diff.estimate() + d,
                diff.high() - diff.estimate() + d, level);
        ConfidenceInterval ratioCi = diff.map(Math::exp);
        ConfidenceInterval deltaPctCi = diff.map(x -> 100 * Math.expm1(x));
        ConfidenceInterval deltaCi = diff.map(x -> pplB * Math.expm1(x));

        ConfidenceInterval kldCi = Statistics.clusteredMean(sumKld, scored, level);
        double meanKld = kldCi.estimate();
        double kldStdErr = n < 2 ? Double.NaN : Statistics.stdErr(kld);
        double[] sortedKld = kld.clone();
        Arrays.sort(sortedKld);
        ConfidenceInterval sameFrac = Statistics.clusteredMean(sumSame, scored, level);
        ConfidenceInterval sameTopCi = new ConfidenceInterval(100.0 * same / n, 100 * sameFrac.stdErr(),
                Math.max(0, 100 * sameFrac.low()), Math.min(100, 100 * sameFrac.high()), level);
        double pSame = (double) same / n;
        double sameStdErr = 100 * Math.sqrt(pSame * (1 - pSame) / n);

        double[] chunkB = rb.chunkMeanNll();
        double[] chunkQ = rq.chunkMeanNll();
        double[] chunkDiff = new double[chunks];
        double[] chunkKld = new double[chunks];
        double[] chunkSame = new double[chunks];
        for (int c = 0; c < chunks; c++) {
            chunkDiff[c] = sumDiff[c] / scored[c];
            chunkKld[c] = sumKld[c] / scored[c];
            chunkSame[c] = sumSame[c] / scored[c];
        }
        return new ComparisonResult(rb, rq, pplB, pplQ, pplQ - pplB, 100 * (pplQ - pplB) / pplB, pplQ / pplB,
                meanKld, kldStdErr, SampleStats.quantile(sortedKld, 0.5), SampleStats.quantile(sortedKld, 0.99),
                sortedKld[sortedKld.length - 1], 100.0 * same / n, sameStdErr, diff, unpaired, deltaCi, deltaPctCi,
                ratioCi, kldCi, sameTopCi, chunkB, chunkQ, chunkDiff, chunkKld, chunkSame, scored, kld,
                KldDistribution.of(kld, deltaP), level, seconds);
    }

    /** One window of a comparison: the quantized and the base model, the scores it writes, the window's index. */
    private interface WindowTask {
        void run(LogitsModel quant, LogitsModel base, Scores scores, int window);
    }

    /** One thread's sequences of both models and its own scoring scratch (a concurrent comparison). */
    private record Pair(ConcurrentLogitsModel.Sequence quant, ConcurrentLogitsModel.Sequence base, Scores scores)
            implements AutoCloseable {

        static Pair open(ConcurrentLogitsModel quant, ConcurrentLogitsModel base, Scores shared) {
            ConcurrentLogitsModel.Sequence q = quant.openSequence();
            try {
                return new Pair(q, base.openSequence(), shared.withOwnScratch());
            } catch (RuntimeException | Error e) {
                q.close();
                throw e;
            }
        }

        @Override
        public void close() {
            try {
                base.close();
            } finally {
                quant.close();
            }
        }
    }

    /**
     * Where the per-token figures and per-chunk sums go. Scoring a window is a method of its own so that its loops are
     * not back-edges of {@link #compare}'s window loop: the JIT then compiles compare once, not on-stack and again.
     */
    private record Scores(double[] nllB, double[] nllQ, double[] kld, double[] deltaP, int[] pos, double[] sumB,
                          double[] sumQ, double[] sumDiff, double[] sumKld, double[] sumSame, double[] expB) {

        /** The same arrays with a scratch of its own (one per thread: windows write disjoint parts of the arrays). */
        Scores withOwnScratch() {
            return new Scores(nllB, nllQ, kld, deltaP, pos, sumB, sumQ, sumDiff, sumKld, sumSame, new double[expB.length]);
        }

        /** Window {@code w}'s scored positions into the arrays from token index {@code k}. */
        void score(float[][] lb, float[][] lq, int[] input, ChunkPlan.Window w, int chunks, int k) {
            int vocab = expB.length;
            for (int j = w.firstLogit(); j <= w.lastLogit(); j++) {
                int target = input[j + 1];
                float[] rb = lb[j];
                float[] rq = lq[j];
                double lseB = ChunkPlan.checkedLogSumExp(rb, expB, target, "base model", w, chunks, j);
                double lseQ = ChunkPlan.checkedLogSumExp(rq, null, target, "quant model", w, chunks, j);
                double b = lseB - rb[target];
                double q = lseQ - rq[target];
                double sumExpB = 0;
                for (int v = 0; v < vocab; v++) {
                    sumExpB += expB[v];
                }
                double kl = 0;
                for (int v = 0; v < vocab; v++) {
                    double e = expB[v];
                    if (e > 0) {
                        // p_b = exp(rb - lseB); log p_b - log p_q = (rb - lseB) - (rq - lseQ)
                        kl += e * (((double) rb[v] - lseB) - ((double) rq[v] - lseQ));
                    }
                }
                kl /= sumExpB;
                if (kl < 0) {
                    kl = 0; // rounding only: KL is non-negative
                }
                boolean sameTop = ChunkPlan.argmax(rb) == ChunkPlan.argmax(rq);
                nllB[k] = b;
                nllQ[k] = q;
                kld[k] = kl;
                deltaP[k] = Math.exp(-q) - Math.exp(-b);
                pos[k] = w.start() + j + 1;
                int c = w.index();
                sumB[c] += b;
                sumQ[c] += q;
                sumDiff[c] += q - b;
                sumKld[c] += kl;
                if (sameTop) {
                    sumSame[c] += 1;
                }
                k++;
            }
        }
    }
}
