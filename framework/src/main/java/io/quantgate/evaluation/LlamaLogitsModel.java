package io.quantgate.evaluation;

import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.LlamaSequence;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A {@link LlamaModel} seen as a {@link LogitsModel}: every call runs the sequence from position 0 as batched
 * prefill, overwriting the KV cache from the start (what an earlier call left there is never read). Does not own the
 * model.
 */
public final class LlamaLogitsModel implements ConcurrentLogitsModel, SegmentLogitsModel {
    private final LlamaModel model;
    private final View own; // the model's own sequence

    public LlamaLogitsModel(LlamaModel model) {
        this.model = Objects.requireNonNull(model, "model");
        this.own = new View(model.ownSequence(), () -> { });
    }

    @Override
    public float[][] logits(int[] tokens) {
        return own.logits(tokens);
    }

    @Override
    public float[][] logits(int[] tokens, int firstRow) {
        return own.logits(tokens, firstRow);
    }

    /** The rows the model's last GEMM left them in (or its buffer for sequences longer than a batch): no copy. */
    @Override
    public MemorySegment logitsSegment(int[] tokens, int firstRow) {
        return own.logitsSegment(tokens, firstRow);
    }

    /** What the sequences of a concurrent evaluation may allocate together (KV caches, activation buffers, logits). */
    static final long CONCURRENT_STATE_BUDGET = 1L << 30;

    /**
     * As many sequences as the native pool has threads when the model's sequences may run side by side
     * ({@link LlamaModel#sequencesRunConcurrently()}: native kernels, no observer) and that many new sequences fit in
     * {@link #CONCURRENT_STATE_BUDGET} together (1 GiB: stories-class models do, twice; a 7B's 4096-position fp32 cache,
     * 4 GiB a sequence, does not — and GEMMs that large split well over the pool anyway: a 1B evaluates as fast either
     * way), else 1. {@code -Dquantgate.perplexity.concurrent=false} turns it off (one sequence at a time over the pool,
     * for comparison). A comparison runs one sequence of each of its models per thread.
     */
    @Override
    public int concurrency() {
        if (!model.sequencesRunConcurrently()
                || !Boolean.parseBoolean(System.getProperty("quantgate.perplexity.concurrent", "true"))) {
            return 1;
        }
        long fit = CONCURRENT_STATE_BUDGET / Math.max(1, model.sequenceBytes()); // every thread opens a new sequence
        int threads = (int) Math.min(NativeKernels.threads(), fit);
        return threads >= 2 ? threads : 1;
    }

    /** A sequence of the model on the calling thread, which becomes a native lane until the sequence is closed. */
    @Override
    public Sequence openSequence() {
        NativeKernels.Lane lane = NativeKernels.openLane();
        LlamaSequence sequence;
        try {
            sequence = model.newSequence();
        } catch (RuntimeException | Error e) {
            lane.close();
            throw e;
        }
        return new View(sequence, () -> {
            try {
                sequence.close();
            } finally {
                lane.close();
            }
        });
    }

    /** Calls on one sequence of the model, each from position 0. */
    private final class View implements Sequence, SegmentLogitsModel {
        private final LlamaSequence sequence;
        private final Runnable onClose;

        View(LlamaSequence sequence, Runnable onClose) {
            this.sequence = sequence;
            this.onClose = onClose;
        }

        @Override
        public float[][] logits(int[] tokens) {
            return logits(tokens, 0);
        }

        @Override
        public float[][] logits(int[] tokens, int firstRow) {
            checkFits(tokens);
            // no reset(): a sequence from position 0 writes every cache position it reads before reading it (the query
            // at p reads keys and values 0 .. p, which this call stored, chunk by chunk, layer by layer), so what an
            // earlier call left behind is never read. Zeroing both caches on every call was a serial memset on the
            // calling thread while the pool's workers waited (stories260K: 655 KB per 512-token chunk, ~2 % of its
            // whole-file perplexity time).
            return sequence.forwardBatch(tokens, 0, firstRow);
        }

        @Override
        public MemorySegment logitsSegment(int[] tokens, int firstRow) {
            checkFits(tokens);
            return sequence.forwardLogits(tokens, 0, firstRow); // no reset, as above
        }

        @Override
        public int vocabSize() {
            return LlamaLogitsModel.this.vocabSize();
        }

        @Override
        public void close() {
            onClose.run();
        }
    }

    private void checkFits(int[] tokens) {
        if (tokens.length > model.config().seqLen()) {
            throw new IllegalArgumentException(tokens.length + " tokens do not fit the model's context of "
                    + model.config().seqLen() + " (lower --ctx)");
        }
    }

    @Override
    public int vocabSize() {
        return model.config().vocabSize();
    }

    public LlamaModel model() {
        return model;
    }
}
