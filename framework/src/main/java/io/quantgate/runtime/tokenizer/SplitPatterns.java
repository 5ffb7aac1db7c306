package io.quantgate.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The regular expressions that byte-level BPE tokenizers use to cut text into words before BPE, and how
 * they run on {@link java.util.regex}.
 *
 * <p>Hugging Face's tokenizers run them with Oniguruma, where {@code \s} is Unicode white space; Java's
 * {@code \s} is ASCII-only unless {@link Pattern#UNICODE_CHARACTER_CLASS} is set, which {@link #compile}
 * does (it also makes {@code (?i)} Unicode-aware, as in Oniguruma). {@code \p{L}}, {@code \p{N}},
 * {@code (?i:...)}, {@code {1,3}} and the look-ahead {@code \s+(?!\S)} (white space up to, not including,
 * the last space before a word, so that the word keeps its leading space) mean the same in both, and both
 * try alternatives left to right with backtracking, so the patterns are used verbatim.
 */
public final class SplitPatterns {
    /**
     * GPT-2 (and what Hugging Face's {@code ByteLevel} pre-tokenizer applies with {@code use_regex}):
     * contractions, optional space + letters, optional space + digits, optional space + other symbols,
     * white space not followed by a non-space, remaining white space.
     */
    public static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /**
     * Llama 3 (tiktoken's cl100k): case-insensitive contractions, letters with at most one leading
     * non-letter/non-digit/non-newline, digits in groups of up to three, symbols with an optional space and
     * trailing newlines, newline runs, then GPT-2's white space rules.
     */
    public static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** Qwen2: Llama 3's pattern with single digits instead of groups of up to three. */
    public static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private SplitPatterns() {
    }

    /**
     * Compiles a tokenizer's split regex with Unicode character classes.
     *
     * @param source where the pattern comes from, for the error message
     * @throws IllegalArgumentException naming the source when Java cannot compile the pattern
     */
    public static Pattern compile(String regex, String source) {
        try {
            return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException(source + ": split pattern " + regex + " does not compile with java.util.regex: "
                    + e.getDescription(), e);
        }
    }

    /**
     * The pieces of {@code text} when the matches are kept as pieces of their own and the text between
     * matches too (Hugging Face's {@code Isolated} behaviour); empty matches are ignored.
     */
    public static List<String> split(Pattern pattern, String text) {
        List<String> out = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue;
            }
            if (m.start() > last) {
                out.add(text.substring(last, m.start()));
            }
            out.add(m.group());
            last = m.end();
        }
        if (last < text.length()) {
            out.add(text.substring(last));
        }
        return out;
    }
}
