package io.quantgate.runtime.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Regex matching with a bound on the work. A {@code tokenizer.json} brings its own patterns, and
 * {@code java.util.regex} backtracks without a time limit: {@code (((x*)*)*)*y} or {@code .*.*.*.*=.*} on a
 * long piece would run for hours. The matcher reads the text through a {@link CharSequence} that counts
 * {@code charAt} calls and gives up after {@link #STEPS_PER_CHAR} per character of the piece (plus
 * {@link #MIN_STEPS}) or after {@link #MIN_MILLIS} ms plus 1 ms per 1000 characters, whichever comes first.
 * Real pre-tokenizer patterns (GPT-2's, Llama 3's, Qwen's) read each character a few times; the bound is
 * four orders of magnitude above them, and the count costs one increment and compare per read.
 */
final class BoundedRegex {
    private BoundedRegex() {
    }

    static final long STEPS_PER_CHAR = 10_000;
    static final long MIN_STEPS = 1_000_000;
    static final long MIN_MILLIS = 10_000;
    private static final int CLOCK_EVERY = 1 << 16;

    /** Thrown from inside the matcher when the budget is spent; callers turn it into an error with context. */
    static final class Exceeded extends RuntimeException {
        Exceeded(String what) {
            super(what, null, false, false);
        }
    }

    /** A matcher over {@code text} that throws {@link Exceeded} when the budget is spent. */
    static Matcher matcher(Pattern pattern, String text) {
        return pattern.matcher(new Counted(text));
    }

    /**
     * The error for a spent budget: names the tokenizer file (and JSON path) {@code where}, the pattern, and the
     * piece's length.
     */
    static IllegalArgumentException error(String where, Pattern pattern, String text, Exceeded e) {
        return new IllegalArgumentException(where + ": the regex /" + pattern.pattern() + "/ " + e.getMessage()
                + " on a piece of " + text.length() + " characters starting \"" + preview(text) + "\": it backtracks "
                + "catastrophically on this input (nested or repeated quantifiers); fix the pattern");
    }

    private static String preview(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    private static final class Counted implements CharSequence {
        private final String s;
        private final long budget;
        private final long deadline;
        private long steps;
        private long checkAt;

        Counted(String s) {
            this.s = s;
            this.budget = MIN_STEPS + STEPS_PER_CHAR * s.length();
            this.deadline = System.nanoTime() + (MIN_MILLIS + s.length() / 1000) * 1_000_000L;
            this.checkAt = Math.min(budget, CLOCK_EVERY);
        }

        @Override
        public char charAt(int index) {
            if (++steps >= checkAt) {
                check();
            }
            return s.charAt(index);
        }

        private void check() {
            if (steps >= budget) {
                throw new Exceeded("needed more than " + budget + " character reads");
            }
            if (System.nanoTime() - deadline > 0) {
                throw new Exceeded("ran for more than " + (MIN_MILLIS + s.length() / 1000) + " ms");
            }
            checkAt = Math.min(budget, steps + CLOCK_EVERY);
        }

        @Override
        public int length() {
            return s.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return s.substring(start, end);
        }

        @Override
        public String toString() {
            return s;
        }
    }
}
