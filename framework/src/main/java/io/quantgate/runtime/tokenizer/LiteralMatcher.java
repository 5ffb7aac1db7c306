package io.quantgate.runtime.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds which of a fixed set of strings (SentencePiece user-defined pieces, Hugging Face added tokens)
 * starts at a position of a text, preferring the longest. The literals are grouped by their first char and
 * sorted longest first, so a lookup tries only the few literals that can match there.
 */
final class LiteralMatcher {
    private final String[] literals;
    private final Map<Character, int[]> byFirstChar = new HashMap<>();

    /** Empty strings are ignored: they would match everywhere. */
    LiteralMatcher(List<String> literals) {
        this.literals = literals.toArray(new String[0]);
        Map<Character, List<Integer>> groups = new HashMap<>();
        for (int i = 0; i < this.literals.length; i++) {
            if (!this.literals[i].isEmpty()) {
                groups.computeIfAbsent(this.literals[i].charAt(0), c -> new ArrayList<>()).add(i);
            }
        }
        groups.forEach((c, list) -> {
            list.sort(Comparator.comparingInt((Integer i) -> -this.literals[i].length()).thenComparingInt(i -> i));
            byFirstChar.put(c, list.stream().mapToInt(Integer::intValue).toArray());
        });
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    /** The index (in the constructor's list) of the longest literal starting at {@code text[pos]}, or -1. */
    int longestAt(String text, int pos) {
        int[] candidates = byFirstChar.get(text.charAt(pos));
        if (candidates != null) {
            for (int i : candidates) {
                if (text.startsWith(literals[i], pos)) {
                    return i;
                }
            }
        }
        return -1;
    }

    String literal(int index) {
        return literals[index];
    }
}
