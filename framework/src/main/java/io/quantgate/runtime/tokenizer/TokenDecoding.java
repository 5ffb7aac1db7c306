package io.quantgate.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntPredicate;

/**
 * {@link Tokenizer#decode(int[])} in terms of {@link Tokenizer#decodeBytes}: the bytes of all pieces are
 * joined before the UTF-8 decode (a character may be split over byte-fallback tokens), and the sequence
 * start counts as following BOS.
 */
final class TokenDecoding {
    private TokenDecoding() {
    }

    static String decode(Tokenizer tokenizer, int[] tokens, IntPredicate producesText) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(tokens.length * 4);
        int prev = tokenizer.bos();
        for (int t : tokens) {
            if (producesText.test(t)) {
                out.writeBytes(tokenizer.decodeBytes(prev, t));
            }
            prev = t;
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
