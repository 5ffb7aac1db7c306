package io.quantgate.runtime.tokenizer;

import java.util.Arrays;

/**
 * The merge rules of a BPE vocabulary: the adjacent pair {@code (left id, right id)} merges into
 * {@code merged id} with a {@code rank}; lower ranks merge first. Every BPE flavour here reduces to this
 * table: Hugging Face lists its merges (rank = position in the list), SentencePiece and llama2.c rank a
 * pair by the score of the merged piece ({@link #ranksByScore}).
 *
 * <p>An open-addressing hash map from the packed pair to the packed {@code (rank, merged)}, so that a
 * lookup in the merge loop allocates nothing. Filled while a tokenizer is built, read-only afterwards
 * (safe to share between threads once published).
 */
final class MergeTable {
    /** {@link #get} result when the pair does not merge. */
    static final long NONE = -1L;
    private static final long EMPTY = -1L;

    private long[] keys;
    private long[] values;
    private int size;

    MergeTable(int expectedPairs) {
        int capacity = Integer.highestOneBit(Math.max(16, expectedPairs * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, EMPTY);
    }

    int size() {
        return size;
    }

    /** Adds or replaces the rule for {@code (left, right)}; all arguments are non-negative. */
    void put(int left, int right, int rank, int merged) {
        if (left < 0 || right < 0 || rank < 0 || merged < 0) {
            throw new IllegalArgumentException("negative id or rank in merge rule " + left + " + " + right + " -> "
                    + merged + " (rank " + rank + ")");
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        insert(pairKey(left, right), ((long) rank << 32) | merged);
    }

    /** {@code (rank << 32) | merged} for the pair, or {@link #NONE}. */
    long get(int left, int right) {
        long key = pairKey(left, right);
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                return values[i];
            }
            if (k == EMPTY) {
                return NONE;
            }
        }
    }

    static int rank(long rule) {
        return (int) (rule >>> 32);
    }

    static int merged(long rule) {
        return (int) rule;
    }

    /**
     * Rank of each piece when pairs merge by the score of the merged piece, highest first: rank 0 for the
     * highest score. Equal scores share a rank, so among them the leftmost pair merges first, as in
     * SentencePiece's and llama2.c's strict {@code >} scans.
     */
    static int[] ranksByScore(float[] scores) {
        float[] distinct = scores.clone();
        Arrays.sort(distinct);
        int n = 0;
        for (float s : distinct) {
            if (n == 0 || Float.compare(distinct[n - 1], s) != 0) {
                distinct[n++] = s;
            }
        }
        int[] rank = new int[scores.length];
        for (int i = 0; i < scores.length; i++) {
            int ascending = Arrays.binarySearch(distinct, 0, n, scores[i]);
            rank[i] = n - 1 - ascending;
        }
        return rank;
    }

    private void insert(long key, long value) {
        int mask = keys.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            if (keys[i] == key) {
                values[i] = value;
                return;
            }
            if (keys[i] == EMPTY) {
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
        }
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                insert(oldKeys[i], oldValues[i]);
            }
        }
    }

    private static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** A 64-bit finalizer (MurmurHash3 fmix64) so that packed small ids spread over the table. */
    private static int slot(long key, int mask) {
        long h = key;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) h & mask;
    }
}
