package io.quantgate.backend;

/** Argument checks shared by the backends' timing hooks. */
public final class Prompts {
    private Prompts() {
    }

    /** Non-empty, fits the context, every id a vocabulary index. */
    public static void check(int[] tokens, int contextLength, int vocabSize, String what) {
        if (tokens == null || tokens.length == 0) {
            throw new IllegalArgumentException(what + ": no tokens");
        }
        if (tokens.length > contextLength) {
            throw new IllegalArgumentException(what + ": " + tokens.length + " tokens do not fit the context of "
                    + contextLength);
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                throw new IllegalArgumentException(what + ": token " + tokens[i] + " at " + i
                        + " is outside the vocabulary 0.." + (vocabSize - 1));
            }
        }
    }
}
