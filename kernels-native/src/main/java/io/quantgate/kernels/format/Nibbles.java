package io.quantgate.kernels.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Packing of one row's 4-bit codes: K index {@code 8w+j} lives in bits {@code 4j+3:4j} of little-endian
 * uint32 word {@code w}. Unused nibbles of the last word are 0 so that rows compare and hash
 * byte-for-byte and a kernel that reads a whole word never sees garbage codes.
 */
public final class Nibbles {
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Nibbles() {
    }

    /** Number of uint32 words a row of {@code k} codes needs. */
    public static int wordsFor(int k) {
        return (int) ((k + 7L) / 8);
    }

    /** Packs codes 0..15 into words; rejects anything else because a silently masked code is a wrong weight. */
    public static int[] pack(int[] codes) {
        int[] words = new int[wordsFor(codes.length)];
        for (int i = 0; i < codes.length; i++) {
            int c = codes[i];
            if (c < 0 || c > 15) {
                throw new IllegalArgumentException("code " + c + " at index " + i + " is not a nibble (0..15)");
            }
            words[i >>> 3] |= c << ((i & 7) << 2);
        }
        return words;
    }

    /** Inverse of {@link #pack(int[])} for the first {@code k} codes. */
    public static int[] unpack(int[] words, int k) {
        if (words.length < wordsFor(k)) {
            throw new IllegalArgumentException(k + " codes need " + wordsFor(k) + " words, got " + words.length);
        }
        int[] codes = new int[k];
        for (int i = 0; i < k; i++) {
            codes[i] = (words[i >>> 3] >>> ((i & 7) << 2)) & 0xF;
        }
        return codes;
    }

    /** Packs the words into little-endian bytes at {@code offset} of {@code dst}. */
    public static void write(int[] words, MemorySegment dst, long offset) {
        for (int i = 0; i < words.length; i++) {
            dst.set(LE_INT, offset + 4L * i, words[i]);
        }
    }

    /** The code of K index {@code k} in a row that starts at byte {@code rowOffset} of {@code src}. */
    public static int get(MemorySegment src, long rowOffset, int k) {
        int word = src.get(LE_INT, rowOffset + 4L * (k >>> 3));
        return (word >>> ((k & 7) << 2)) & 0xF;
    }
}
