package io.quantgate.evaluation;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

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
        PerplexityOptions o = ChunkPlan.normalize(tokens, options); // SPREAD over every chunk is CHUNKED
        ChunkPlan plan = ChunkPlan.of(tokens, o);
        List<ChunkPlan.Window> windows = plan.windows;
        int chunks = windows.size();
        int[] offset = plan.tokenOffsets();
        int total = plan.totalScored();
        double[] tokenNll = new double[total];
        int[] tokenPos = new int[total];
        double[] windowSum = new double[chunks];
        double[] chunkSum = new double[chunks];
        int[] chunkScored = new int[chunks];
        LongAdder modelNanos = new LongAdder();
        long t0 = System.nanoTime();
        // one window: the model's logits, then its NLLs at the window's own token indices
        WindowRunner.Task<LogitsModel> window = (m, i) -> {
            ChunkPlan.Window w = windows.get(i);
            int[] input = plan.input(w, vocab);
            long s = System.nanoTime();
            Rows rows = rows(m, input, w, vocab);
            modelNanos.add(System.nanoTime() - s);
            windowSum[i] = score(rows, vocab, input, w, chunks, tokenNll, tokenPos, offset[i]);
        };
        // then, in window order: the chunk's sum, the running perplexity, progress
        var running = new Object() {
            double sum;
            int scored;
        };
        IntConsumer inOrder = i -> {
            ChunkPlan.Window w = windows.get(i);
            chunkSum[w.index()] = windowSum[i];
            chunkScored[w.index()] = w.scored();
            running.sum += windowSum[i];
            running.scored += w.scored();
            if (o.progress() != null) {
                o.progress().accept(new Progress(w.index() + 1, chunks, running.scored,
                        Math.exp(running.sum / running.scored), Double.NaN, Double.NaN, (System.nanoTime() - t0) / 1e9));
            }
        };
        int threads = model instanceof ConcurrentLogitsModel c ? Math.min(c.concurrency(), chunks) : 1;
        double seconds;
        if (threads > 1) {
            // a sequence of the model on each of the threads (ConcurrentLogitsModel): each runs a window and scores it,
            // then takes the next; the sums are added in window order as below, so every NLL and the perplexity are the
            // same bits. The calls and the scoring overlap across the threads: seconds is the elapsed time of it all.
            WindowRunner.run(chunks, threads, ((ConcurrentLogitsModel) model)::openSequence, window::run, inOrder);
            seconds = (System.nanoTime() - t0) / 1e9;
        } else {
            for (int i = 0; i < chunks; i++) {
                window.run(model, i);
                inOrder.accept(i);
            }
            seconds = modelNanos.sum() / 1e9; // the time inside the model's calls
        }
        return PerplexityResult.build(plan, o, chunkSum, chunkScored, tokenNll, tokenPos, seconds);
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
