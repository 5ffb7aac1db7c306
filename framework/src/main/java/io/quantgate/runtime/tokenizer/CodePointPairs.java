package io.quantgate.runtime.tokenizer;

import java.util.Arrays;

/**
 * The adjacent code point pairs that occur inside some merge result of a BPE vocabulary. Two neighbouring
 * symbols whose boundary chars are not such a pair can never end up in the same token (any token spanning
 * the boundary would contain the pair), so the text can be cut there and each part merged on its own. For
 * SentencePiece vocabularies this cuts before most {@code ▁}, i.e. into words.
 */
final class CodePointPairs {
    private static final long EMPTY = -1L;
    private long[] slots;
    private int size;

    CodePointPairs() {
        slots = new long[1024];
        Arrays.fill(slots, EMPTY);
    }

    /** Adds every adjacent code point pair of {@code piece}. */
    void addPairsOf(String piece) {
        int prev = -1;
        for (int i = 0; i < piece.length(); ) {
            int cp = piece.codePointAt(i);
            if (prev >= 0) {
                add(prev, cp);
            }
            prev = cp;
            i += Character.charCount(cp);
        }
    }

    /** Whether some merge result has {@code first} directly followed by {@code second}. */
    boolean mayJoin(int first, int second) {
        long key = key(first, second);
        int mask = slots.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            if (slots[i] == key) {
                return true;
            }
            if (slots[i] == EMPTY) {
                return false;
            }
        }
    }

    private void add(int first, int second) {
        if ((size + 1) * 2 > slots.length) {
            long[] old = slots;
            slots = new long[old.length * 2];
            Arrays.fill(slots, EMPTY);
            size = 0;
            for (long k : old) {
                if (k != EMPTY) {
                    insert(k);
                }
            }
        }
        insert(key(first, second));
    }

    private void insert(long key) {
        int mask = slots.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            if (slots[i] == key) {
                return;
            }
            if (slots[i] == EMPTY) {
                slots[i] = key;
                size++;
                return;
            }
        }
    }

    private static long key(int first, int second) {
        return ((long) first << 32) | (second & 0xFFFFFFFFL);
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29)) & mask;
    }
}
