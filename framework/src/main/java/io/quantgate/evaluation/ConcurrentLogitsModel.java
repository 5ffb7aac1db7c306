package io.quantgate.evaluation;

/**
 * A {@link LogitsModel} that can evaluate several sequences at the same time, one thread each. {@link
 * PerplexityEvaluator} and {@link PerplexityComparison} then run their chunks (windows) that way: for a model as small as stories260K a chunk's GEMMs are
 * too short to split well over the cores (the threads meet at a barrier after every small call), while whole chunks on
 * separate cores never wait for each other — and each thread scores its own chunk's logits too.
 */
public interface ConcurrentLogitsModel extends LogitsModel {

    /** How many sequences to run at once to advantage on this machine; 1 or less: evaluate one after another. */
    int concurrency();

    /**
     * A sequence for the calling thread: state of its own over the model's shared weights, used and closed on this
     * thread only. Its calls give the same logits as the model's own, bit for bit. A sequence that is also a
     * {@link SegmentLogitsModel} is read in place. A thread may hold sequences of several models at once (a
     * comparison's base and quantized model).
     */
    Sequence openSequence();

    /** One thread's view of the model ({@link #openSequence()}). */
    interface Sequence extends LogitsModel, AutoCloseable {
        @Override
        void close();
    }
}
