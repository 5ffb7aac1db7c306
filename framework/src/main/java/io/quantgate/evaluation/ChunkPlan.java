package io.quantgate.evaluation;

import io.quantgate.kernels.nativeimpl.NativeKernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * How a token stream is cut into the sequences fed to the model and which of their predictions are
 * scored. Package-private: shared by {@link PerplexityEvaluator} and {@link PerplexityComparison}.
 */
final class ChunkPlan {

    /**
     * One model call: tokens {@code [start, start + ctx)} of the stream (first one replaced by BOS);
     * the logits at positions {@code firstLogit .. lastLogit} (inclusive, window-relative) are scored
     * against the tokens one position later.
     */
    record Window(int index, int start, int firstLogit, int lastLogit) {
        int scored() {
            return lastLogit - firstLogit + 1;
        }
    }

    final int[] tokens;
    final int ctx;
    final int bos;
    final List<Window> windows;

    private ChunkPlan(int[] tokens, int ctx, int bos, List<Window> windows) {
        this.tokens = tokens;
        this.ctx = ctx;
        this.bos = bos;
        this.windows = windows;
    }

    /**
     * {@code o} as it will run on {@code tokens}: {@link PerplexityOptions.Mode#SPREAD} that uses every chunk is
     * {@link PerplexityOptions.Mode#CHUNKED} (the same chunks in the same order), so results say CHUNKED and stay
     * comparable with llama.cpp's and with other full runs.
     */
    static PerplexityOptions normalize(int[] tokens, PerplexityOptions o) {
        if (o != null && tokens != null && o.mode() == PerplexityOptions.Mode.SPREAD
                && (o.maxChunks() == 0 || o.maxChunks() >= tokens.length / o.ctx())) {
            return o.withMode(PerplexityOptions.Mode.CHUNKED);
        }
        return o;
    }

    static ChunkPlan of(int[] tokens, PerplexityOptions o) {
        if (tokens == null) {
            throw new IllegalArgumentException("tokens must not be null");
        }
        if (tokens.length == 0) {
            throw new IllegalArgumentException("tokens must not be empty (tokenize the text first, BOS first)");
        }
        if (o == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        int ctx = o.ctx();
        if (ctx > tokens.length) {
            throw new IllegalArgumentException("ctx " + ctx + " is larger than the token stream ("
                    + tokens.length + " tokens): at least one full chunk of ctx tokens is needed");
        }
        int bos = switch (o.bosToken()) {
            case PerplexityOptions.BOS_FROM_STREAM -> tokens[0];
            default -> o.bosToken();
        };
        List<Window> ws = new ArrayList<>();
        switch (o.mode()) {
            case CHUNKED, SPREAD -> {
                // llama.cpp perplexity.cpp: n_chunk = min(n_chunks, tokens / n_ctx); first = n_ctx / 2;
                // logits[first .. n_ctx - 2] scored against tokens[first + 1 .. n_ctx - 1].
                int all = tokens.length / ctx;
                int n = o.maxChunks() > 0 ? Math.min(all, o.maxChunks()) : all;
                boolean spread = o.mode() == PerplexityOptions.Mode.SPREAD;
                int first = ctx / 2;
                for (int i = 0; i < n; i++) {
                    long chunk = spread ? (long) i * all / n : i; // SPREAD: chunk ⌊i·all/n⌋, i.e. i when n = all
                    ws.add(new Window(i, (int) (chunk * ctx), first, ctx - 2));
                }
            }
            case SLIDING -> {
                int stride = o.effectiveStride();
                int n = (tokens.length - ctx) / stride + 1;
                if (o.maxChunks() > 0) {
                    n = Math.min(n, o.maxChunks());
                }
                for (int i = 0; i < n; i++) {
                    ws.add(new Window(i, i * stride, i == 0 ? 0 : ctx - stride - 1, ctx - 2));
                }
            }
        }
        return new ChunkPlan(tokens, ctx, bos, Collections.unmodifiableList(ws));
    }

    /** The model input of window {@code w}: a fresh copy with the first token replaced by BOS. */
    int[] input(Window w, int vocab) {
        int[] in = new int[ctx];
        System.arraycopy(tokens, w.start(), in, 0, ctx);
        if (bos != PerplexityOptions.KEEP_FIRST_TOKEN) {
            in[0] = bos;
        }
        for (int i = 0; i < ctx; i++) {
            if (in[i] < 0 || in[i] >= vocab) {
                throw new IllegalArgumentException("token " + in[i] + " at stream position " + (w.start() + i)
                        + (i == 0 && bos != PerplexityOptions.KEEP_FIRST_TOKEN ? " (BOS)" : "")
                        + " is outside the model's vocabulary [0, " + vocab + ")");
            }
        }
        return in;
    }

    /** Where window i's scored tokens start among all of them: the sequential loop's count when it reaches the window. */
    int[] tokenOffsets() {
        int[] offset = new int[windows.size()];
        for (int i = 1; i < offset.length; i++) {
            offset[i] = offset[i - 1] + windows.get(i - 1).scored();
        }
        return offset;
    }

    int totalScored() {
        int s = 0;
        for (Window w : windows) {
            s += w.scored();
        }
        return s;
    }

    static float[][] call(LogitsModel model, int[] input, int firstRow, String name) {
        float[][] logits = model.logits(input.clone(), firstRow);
        int vocab = model.vocabSize();
        if (logits == null || logits.length != input.length) {
            throw new IllegalStateException(name + " returned " + (logits == null ? "null" : logits.length + " rows")
                    + " of logits for " + input.length + " tokens");
        }
        for (int i = firstRow; i < logits.length; i++) {
            if (logits[i] == null || logits[i].length != vocab) {
                throw new IllegalStateException(name + " returned a logits row of length "
                        + (logits[i] == null ? "null" : logits[i].length) + " at position " + i
                        + ", expected vocabSize() = " + vocab);
            }
        }
        return logits;
    }

    /** {@link #call} for a model that hands over its logits rows in place: rows {@code firstRow ..}, their size checked. */
    static MemorySegment callSegment(SegmentLogitsModel model, int[] input, int firstRow, String name) {
        MemorySegment rows = model.logitsSegment(input.clone(), firstRow);
        long expected = 4L * (input.length - firstRow) * model.vocabSize();
        if (rows == null || rows.byteSize() != expected) {
            throw new IllegalStateException(name + " returned " + (rows == null ? "null" : rows.byteSize() + " bytes")
                    + " of logits for rows " + firstRow + ".." + (input.length - 1) + ", expected " + expected
                    + " (vocabSize() = " + model.vocabSize() + " floats a row)");
        }
        return rows;
    }

    static int checkVocab(LogitsModel model, String name) {
        if (model == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        int v = model.vocabSize();
        if (v < 1) {
            throw new IllegalArgumentException(name + " has vocabSize() " + v + ", must be >= 1");
        }
        return v;
    }

    /**
     * {@link #logSumExp} of the logits row at position {@code j} of window {@code w}, checked: a row without a
     * finite maximum, with a NaN, or giving the target zero probability is an error naming the chunk and position
     * (the perplexity would be Infinity or NaN). The caller's {@code lse − row[target]} is then finite.
     */
    static double checkedLogSumExp(float[] row, double[] expScratch, int target, String name, Window w, int windows,
                                   int j) {
        return checkedLogSumExp(MemorySegment.ofArray(row), 0, row.length, expScratch, target, name, w, windows, j);
    }

    /** {@link #checkedLogSumExp(float[], double[], int, String, Window, int, int)} of the {@code n} floats of {@code rows} from float {@code first}. */
    static double checkedLogSumExp(MemorySegment rows, long first, int n, double[] expScratch, int target, String name,
                                   Window w, int windows, int j) {
        double lse;
        try {
            lse = logSumExp(rows, first, n, expScratch);
        } catch (IllegalStateException e) {
            throw nonFinite(name, w, windows, j, e.getMessage());
        }
        float logit = rows.getAtIndex(ValueLayout.JAVA_FLOAT, first + target);
        if (!Double.isFinite(lse - logit)) {
            throw nonFinite(name, w, windows, j, "the target token " + target + " has logit " + logit
                    + " (log-sum-exp " + lse + ")");
        }
        return lse;
    }

    private static IllegalStateException nonFinite(String name, Window w, int windows, int j, String what) {
        return new IllegalStateException(name + ": chunk " + (w.index() + 1) + " of " + windows + ", position " + j
                + " (token " + (w.start() + j) + " of the text): " + what + "; the model's weights are the likely "
                + "cause (non-finite or huge values in the model file), so no perplexity is reported");
    }

    /**
     * Whether the sums of exponentials run in native code ({@link NativeKernels#sumExp}: the library loaded). Without it
     * (a platform the library is not built for) {@code Math.exp} in Java: the same values to within 2 ulp a term, so a
     * perplexity may differ in its last digits between the two — never within one run.
     */
    private static final boolean NATIVE_SUM_EXP = nativeSumExp();

    private static boolean nativeSumExp() {
        try {
            NativeKernels.ensureLoaded();
            return true;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** log Σ exp(logits) in double; fills {@code expScratch} (if non-null) with exp(l - max). */
    static double logSumExp(float[] logits, double[] expScratch) {
        return logSumExp(MemorySegment.ofArray(logits), 0, logits.length, expScratch);
    }

    /** {@link #logSumExp(float[], double[])} of the {@code n} floats of {@code rows} from float {@code first}. */
    static double logSumExp(MemorySegment rows, long first, int n, double[] expScratch) {
        // the maximum in native code too where it runs: over a segment wrapping an array (a comparison's rows) the Java
        // loop's bounds checks cost as much as the rest of the scoring
        double max = Double.NEGATIVE_INFINITY;
        if (NATIVE_SUM_EXP) {
            max = NativeKernels.max(rows, first, n);
        } else {
            for (int i = 0; i < n; i++) {
                float l = rows.getAtIndex(ValueLayout.JAVA_FLOAT, first + i);
                if (l > max) {
                    max = l;
                }
            }
        }
        if (!Double.isFinite(max)) {
            throw new IllegalStateException("logits row has no finite maximum (" + max + ")");
        }
        // the exponentials (Math.exp: ~5 ns a logit, 206 M of them in a whole-file run of stories260K, more than a
        // second) in native code where the library is loaded: 8 at a time, ~0.2 ns a logit
        double s = 0;
        if (NATIVE_SUM_EXP) {
            s = NativeKernels.sumExp(rows, first, n, max, expScratch);
        } else {
            for (int i = 0; i < n; i++) {
                double e = Math.exp(rows.getAtIndex(ValueLayout.JAVA_FLOAT, first + i) - max);
                if (expScratch != null) {
                    expScratch[i] = e;
                }
                s += e;
            }
        }
        double lse = max + Math.log(s);
        if (Double.isNaN(lse)) {
            throw new IllegalStateException("logits row contains NaN");
        }
        return lse;
    }

    /** Index of the largest logit, the first one on ties (as llama.cpp's argmax loop). */
    static int argmax(float[] logits) {
        int best = 0;
        float top = logits[0]; // held, not reloaded through best: the loop was a chain of dependent loads
        for (int i = 1; i < logits.length; i++) {
            float v = logits[i];
            if (v > top) {
                top = v;
                best = i;
            }
        }
        return best;
    }
}
