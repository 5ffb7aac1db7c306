package io.quantgate.runtime.tokenizer;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Equality of long id sequences. AssertJ's {@code containsExactly} is quadratic on arrays of a few hundred
 * thousand ids; this compares linearly and reports the first difference with its surroundings.
 */
final class IdSequences {
    private IdSequences() {
    }

    static void assertSame(int[] actual, int[] expected, String what) {
        int i = Arrays.mismatch(actual, expected);
        if (i < 0) {
            return;
        }
        int from = Math.max(0, i - 5);
        String context = "first difference at index " + i + " of " + actual.length + " / " + expected.length + " ids: "
                + Arrays.toString(Arrays.copyOfRange(actual, from, Math.min(actual.length, i + 6))) + " vs expected "
                + Arrays.toString(Arrays.copyOfRange(expected, from, Math.min(expected.length, i + 6)));
        assertThat(i).as(what + ": " + context).isEqualTo(-1);
    }
}
