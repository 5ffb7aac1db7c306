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
        // a model that hands over its logits in place is read there (no arrays: SegmentLogitsModel); the same sums
        SegmentLogitsModel inPlace = model instanceof SegmentLogitsModel s ? s : null;
        for (ChunkPlan.Window w : windows) {
            int[] input = plan.input(w, vocab);
            double sum;
            long s = System.nanoTime();
            if (inPlace != null) {
                MemorySegment rows = ChunkPlan.callSegment(inPlace, input, w.firstLogit(), "model");
                modelNanos += System.nanoTime() - s;
                sum = score(rows, vocab, input, w, chunks, tokenNll, tokenPos, k);
            } else {
                float[][] logits = ChunkPlan.call(model, input, w.firstLogit(), "model");
                modelNanos += System.nanoTime() - s;
                sum = score(logits, input, w, chunks, tokenNll, tokenPos, k);
            }
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
     * One window's NLLs into {@code tokenNll} / {@code tokenPos} from index {@code k}; returns their sum (in position
     * order). A method of its own so that this loop is not a back-edge of the window loop: the JIT then compiles
     * evaluate once, not on-stack and again, on the cores the model runs on.
     */
    private static double score(float[][] logits, int[] input, ChunkPlan.Window w, int chunks, double[] tokenNll,
                                int[] tokenPos, int k) {
        double sum = 0;
        for (int j = w.firstLogit(); j <= w.lastLogit(); j++) {
            int target = input[j + 1];
            double nll = ChunkPlan.checkedLogSumExp(logits[j], null, target, "model", w, chunks, j) - logits[j][target];
            sum += nll;
            tokenNll[k] = nll;
            tokenPos[k] = w.start() + j + 1;
            k++;
        }
        return sum;
    }

    /** {@link #score(float[][], int[], ChunkPlan.Window, int, double[], int[], int)} of rows handed over in place: row
     * {@code j} of the window at float {@code (j - firstLogit) * vocab} of {@code rows}. */
    private static double score(MemorySegment rows, int vocab, int[] input, ChunkPlan.Window w, int chunks,
                                double[] tokenNll, int[] tokenPos, int k) {
        double sum = 0;
        for (int j = w.firstLogit(); j <= w.lastLogit(); j++) {
            int target = input[j + 1];
            long first = (long) (j - w.firstLogit()) * vocab;
            double nll = ChunkPlan.checkedLogSumExp(rows, first, vocab, null, target, "model", w, chunks, j)
                    - rows.getAtIndex(ValueLayout.JAVA_FLOAT, first + target);
            sum += nll;
            tokenNll[k] = nll;
            tokenPos[k] = w.start() + j + 1;
            k++;
        }
        return sum;
    }
}
