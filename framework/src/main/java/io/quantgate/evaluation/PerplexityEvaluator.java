package io.quantgate.evaluation;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Perplexity of a {@link LogitsModel} on an already tokenized stream, by llama.cpp's method
 * (SPEC §3, {@code tools/perplexity/perplexity.cpp}).
 *
 * <p><b>Chunked (default).</b> The stream is cut into {@code floor(tokens / ctx)} non-overlapping
 * chunks of {@code ctx} tokens (fewer if {@link PerplexityOptions#maxChunks()} is smaller; the
 * remainder is dropped). The first token of every chunk is replaced by BOS and the chunk is
 * evaluated from an empty cache. With {@code first = ctx / 2}, the logits at chunk positions
 * {@code first … ctx − 2} are scored against the tokens at positions {@code first + 1 … ctx − 1}:
 * {@code ctx − ctx/2 − 1} tokens per chunk (255 at ctx 512), so every scored token has at least
 * {@code ctx/2} tokens of context.
 *
 * <p><b>Sliding window.</b> Windows of {@code ctx} tokens start every {@code stride} tokens
 * (default {@code ctx/2}); {@code floor((tokens − ctx) / stride) + 1} full windows. The first
 * window scores all its {@code ctx − 1} predictions (tokens 1 … ctx − 1), every later window only
 * its last {@code stride} tokens, so each token from position 1 to the end of the last window is
 * scored exactly once. The first token of every window is replaced by BOS as in chunked mode.
 *
 * <p>NLL per token = logsumexp(logits) − logits[target], computed in double; PPL = exp(mean NLL),
 * ± = PPL · sd(NLL) / √n (the same number llama.cpp prints).
 */
public final class PerplexityEvaluator {

    private PerplexityEvaluator() {
    }

    /** Chunked perplexity with llama.cpp's defaults (ctx 512, all chunks). */
    public static PerplexityResult evaluate(LogitsModel model, int[] tokens) {
        return evaluate(model, tokens, PerplexityOptions.defaults());
    }

    public static PerplexityResult evaluate(LogitsModel model, int[] tokens, PerplexityOptions options) {
        int vocab = ChunkPlan.checkVocab(model, "model");
        options = ChunkPlan.normalize(tokens, options); // SPREAD over every chunk is CHUNKED
        ChunkPlan plan = ChunkPlan.of(tokens, options);
        List<ChunkPlan.Window> windows = plan.windows;
        if (model instanceof ConcurrentLogitsModel concurrent) {
            int threads = Math.min(concurrent.concurrency(), windows.size());
            if (threads > 1) {
                return evaluateConcurrently(concurrent, threads, plan, options, vocab);
            }
        }
        int chunks = windows.size();
        double[] chunkSum = new double[chunks];
        int[] chunkScored = new int[chunks];
        int total = plan.totalScored();
        double[] tokenNll = new double[total];
        int[] tokenPos = new int[total];
        int k = 0;
        double running = 0;
        long modelNanos = 0;
        long t0 = System.nanoTime();
        for (ChunkPlan.Window w : windows) {
            int[] input = plan.input(w, vocab);
            long s = System.nanoTime();
            Rows rows = rows(model, input, w, vocab);
            modelNanos += System.nanoTime() - s;
            double sum = score(rows, vocab, input, w, chunks, tokenNll, tokenPos, k);
            k += w.scored();
            chunkSum[w.index()] = sum;
            chunkScored[w.index()] = w.scored();
            running += sum;
            if (options.progress() != null) {
                options.progress().accept(new Progress(w.index() + 1, chunks, k, Math.exp(running / k), Double.NaN,
                        Double.NaN, (System.nanoTime() - t0) / 1e9));
            }
        }
        return PerplexityResult.build(plan, options, chunkSum, chunkScored, tokenNll, tokenPos, modelNanos / 1e9);
    }

    /**
     * The windows on {@code threads} threads, a sequence of the model each ({@link ConcurrentLogitsModel}): each thread
     * runs a window and scores it, then takes the next; the sums are added in window order as the sequential loop adds
     * them, so every NLL and the perplexity are its bits. {@code seconds} is then the elapsed time of the whole
     * evaluation, scoring included (calls and scoring overlap across the threads), not only the time inside calls.
     */
    private static PerplexityResult evaluateConcurrently(ConcurrentLogitsModel model, int threads, ChunkPlan plan,
                                                         PerplexityOptions options, int vocab) {
        List<ChunkPlan.Window> windows = plan.windows;
        int chunks = windows.size();
        int[] offset = plan.tokenOffsets();
        int total = plan.totalScored();
        double[] tokenNll = new double[total];
        int[] tokenPos = new int[total];
        double[] windowSum = new double[chunks];
        double[] chunkSum = new double[chunks];
        int[] chunkScored = new int[chunks];
        long t0 = System.nanoTime();
        var running = new Object() {
            double sum;
            int scored;
        };
        WindowRunner.run(chunks, threads, model::openSequence, (sequence, i) -> {
            ChunkPlan.Window w = windows.get(i);
            int[] input = plan.input(w, vocab);
            windowSum[i] = score(rows(sequence, input, w, vocab), vocab, input, w, chunks, tokenNll, tokenPos, offset[i]);
        }, i -> {
            ChunkPlan.Window w = windows.get(i);
            chunkSum[w.index()] = windowSum[i];
            chunkScored[w.index()] = w.scored();
            running.sum += windowSum[i];
            running.scored += w.scored();
            if (options.progress() != null) {
                options.progress().accept(new Progress(w.index() + 1, chunks, running.scored,
                        Math.exp(running.sum / running.scored), Double.NaN, Double.NaN, (System.nanoTime() - t0) / 1e9));
            }
        });
        return PerplexityResult.build(plan, options, chunkSum, chunkScored, tokenNll, tokenPos,
                (System.nanoTime() - t0) / 1e9);
    }

    /** Logits row {@code j} of a window (vocab floats), wherever the model left it. */
    private interface Rows {
        MemorySegment row(int j);
    }

    /**
     * The model's logits of window {@code w}: read where a {@link SegmentLogitsModel} leaves them (no arrays), else its
     * arrays; the same sums either way.
     */
    private static Rows rows(LogitsModel model, int[] input, ChunkPlan.Window w, int vocab) {
        if (model instanceof SegmentLogitsModel inPlace) {
            MemorySegment all = ChunkPlan.callSegment(inPlace, input, w.firstLogit(), "model");
            return j -> all.asSlice(4L * (j - w.firstLogit()) * vocab, 4L * vocab);
        }
        float[][] logits = ChunkPlan.call(model, input, w.firstLogit(), "model");
        return j -> MemorySegment.ofArray(logits[j]);
    }

    /**
     * One window's NLLs into {@code tokenNll} / {@code tokenPos} from index {@code k}; returns their sum (in position
     * order). A method of its own so that this loop is not a back-edge of the window loop: the JIT then compiles
     * evaluate once, not on-stack and again, on the cores the model runs on.
     */
    private static double score(Rows rows, int vocab, int[] input, ChunkPlan.Window w, int chunks, double[] tokenNll,
                                int[] tokenPos, int k) {
        double sum = 0;
        for (int j = w.firstLogit(); j <= w.lastLogit(); j++) {
            int target = input[j + 1];
            MemorySegment row = rows.row(j);
            double nll = ChunkPlan.checkedLogSumExp(row, 0, vocab, null, target, "model", w, chunks, j)
                    - row.getAtIndex(ValueLayout.JAVA_FLOAT, target);
            sum += nll;
            tokenNll[k] = nll;
            tokenPos[k] = w.start() + j + 1;
            k++;
        }
        return sum;
    }
}
