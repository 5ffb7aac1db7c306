package io.quantgate.harness;

import io.quantgate.evaluation.ConcurrentLogitsModel;
import io.quantgate.evaluation.LogitsModel;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The baseline model's logits, computed once per chunk and reused by every configuration compared with it
 * (a suite of ten configs then runs the baseline once instead of ten times). Rows are cached until
 * {@code budgetBytes} is reached; later chunks are recomputed each time (correct, only slower). A cached
 * answer is the very array the model returned, so it is bit-identical to a recomputation.
 * Measurements are serialized (see {@link Harness}); within one, a comparison may run its chunks on concurrent
 * sequences when the cached model offers them ({@link ConcurrentLogitsModel}): each thread's sequence looks up the
 * shared cache and computes a miss on a sequence of the cached model of its own.
 */
public final class CachingLogitsModel implements ConcurrentLogitsModel {
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
        return cached(tokens, firstRow, model::logits);
    }

    /** Where a miss is computed: the cached model, or a thread's sequence of it. */
    private interface Source {
        float[][] logits(int[] tokens, int firstRow);
    }

    /** The cached rows of {@code tokens}, or {@code source}'s (then cached while the budget lasts). */
    private float[][] cached(int[] tokens, int firstRow, Source source) {
        Key key = new Key(tokens.clone(), firstRow);
        synchronized (cache) {
            float[][] hit = cache.get(key);
            if (hit != null) {
                hits++;
                return hit.clone(); // callers may null rows out; the rows themselves are only read
            }
            misses++;
        }
        float[][] rows = source.logits(tokens, firstRow);
        long bytes = (long) (tokens.length - firstRow) * vocabSize() * Float.BYTES;
        synchronized (cache) {
            if (cachedBytes + bytes <= budgetBytes && !cache.containsKey(key)) {
                cache.put(key, rows.clone());
                cachedBytes += bytes;
            }
        }
        return rows;
    }

    /** The cached model's concurrency (1 when it offers none). */
    @Override
    public int concurrency() {
        return model instanceof ConcurrentLogitsModel c ? c.concurrency() : 1;
    }

    /**
     * A sequence that answers from the shared cache and computes misses on a sequence of the cached model, opened on
     * this thread at the first miss (a fully cached baseline opens none).
     */
    @Override
    public Sequence openSequence() {
        if (!(model instanceof ConcurrentLogitsModel concurrent)) {
            throw new UnsupportedOperationException("the cached model runs no concurrent sequences");
        }
        return new Sequence() {
            private Sequence live;

            @Override
            public float[][] logits(int[] tokens) {
                return logits(tokens, 0);
            }

            @Override
            public float[][] logits(int[] tokens, int firstRow) {
                return cached(tokens, firstRow, (t, f) -> {
                    if (live == null) {
                        live = concurrent.openSequence();
                    }
                    return live.logits(t, f);
                });
            }

            @Override
            public int vocabSize() {
                return model.vocabSize();
            }

            @Override
            public void close() {
                if (live != null) {
                    live.close();
                }
            }
        };
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
        synchronized (cache) {
            return hits;
        }
    }

    long misses() {
        synchronized (cache) {
            return misses;
        }
    }
}
