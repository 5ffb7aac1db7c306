package io.quantgate.harness;

import io.quantgate.evaluation.LogitsModel;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The baseline model's logits, computed once per chunk and reused by every configuration compared with it
 * (a suite of ten configs then runs the baseline once instead of ten times). Rows are cached until
 * {@code budgetBytes} is reached; later chunks are recomputed each time (correct, only slower). A cached
 * answer is the very array the model returned, so it is bit-identical to a recomputation.
 * Not thread-safe (measurements are serialized, see {@link Harness}).
 */
public final class CachingLogitsModel implements LogitsModel {
    private record Key(int[] tokens, int firstRow) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.firstRow == firstRow && Arrays.equals(k.tokens, tokens);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(tokens) + firstRow;
        }
    }

    private final LogitsModel model;
    private final long budgetBytes;
    private final Map<Key, float[][]> cache = new HashMap<>();
    private long cachedBytes;
    private long hits;
    private long misses;

    public CachingLogitsModel(LogitsModel model, long budgetBytes) {
        this.model = model;
        this.budgetBytes = budgetBytes;
    }

    @Override
    public float[][] logits(int[] tokens) {
        return logits(tokens, 0);
    }

    @Override
    public float[][] logits(int[] tokens, int firstRow) {
        Key key = new Key(tokens.clone(), firstRow);
        float[][] hit = cache.get(key);
        if (hit != null) {
            hits++;
            return hit.clone(); // callers may null rows out; the rows themselves are only read
        }
        misses++;
        float[][] rows = model.logits(tokens, firstRow);
        long bytes = (long) (tokens.length - firstRow) * vocabSize() * Float.BYTES;
        if (cachedBytes + bytes <= budgetBytes) {
            cache.put(key, rows.clone());
            cachedBytes += bytes;
        }
        return rows;
    }

    /** The model whose answers are cached. */
    LogitsModel source() {
        return model;
    }

    @Override
    public int vocabSize() {
        return model.vocabSize();
    }

    long hits() {
        return hits;
    }

    long misses() {
        return misses;
    }
}
