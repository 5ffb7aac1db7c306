package io.quantgate.evaluation;

import java.lang.foreign.MemorySegment;

/**
 * A {@link LogitsModel} that can hand over the logits of a call where they lie instead of copying them into arrays.
 * {@link PerplexityEvaluator} reads them this way when a model offers it: for stories260K the arrays of a 512-token
 * chunk's 255 scored rows cost ~3 % of the whole-file evaluation, allocated and filled on one thread while the kernel
 * pool's other threads waited.
 */
public interface SegmentLogitsModel extends LogitsModel {

    /**
     * The logits {@link #logits(int[], int)} would return, rows {@code firstRow .. tokens.length - 1} only: row
     * {@code t} as {@code vocabSize()} fp32 values (native byte order) from float {@code (t - firstRow) * vocabSize()}
     * of the returned segment, which stays valid until the model's next call.
     */
    MemorySegment logitsSegment(int[] tokens, int firstRow);
}
