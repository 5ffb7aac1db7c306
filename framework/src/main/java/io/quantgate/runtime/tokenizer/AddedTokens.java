package io.quantgate.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code added_tokens} of a {@code tokenizer.json} ({@code <s>}, {@code <|endoftext|>},
 * {@code <|im_start|>} ...). They are found in the raw text before anything else, the leftmost match
 * first and the longest among matches starting there, and become their id; only the text between them
 * goes through normalization, pre-tokenization and BPE. {@code lstrip} / {@code rstrip} make a token
 * swallow the white space before / after it; {@code single_word} accepts a match only if it is not inside
 * a word (a rejected match is skipped, as Hugging Face's matcher does).
 *
 * <p>Hugging Face matches tokens marked {@code normalized: true} in the normalized text; here all are
 * matched in the raw text, which differs only if the normalizer changes a token's spelling.
 */
final class AddedTokens {
    /** One entry of {@code added_tokens}. */
    record Token(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean special) {
    }

    /** A stretch of the input: an added token ({@code id >= 0}) or plain text ({@code id == -1}). */
    record Segment(int start, int end, int id) {
    }

    private final List<Token> tokens;
    private final LiteralMatcher matcher;

    private AddedTokens(List<Token> tokens) {
        this.tokens = tokens;
        this.matcher = new LiteralMatcher(tokens.stream().map(Token::content).toList());
    }

    /** @param node the {@code added_tokens} array; null or JSON null for none */
    static AddedTokens parse(JsonNode node, JsonFields json) {
        List<Token> tokens = new ArrayList<>();
        if (node != null && !node.isNull()) {
            if (!node.isArray()) {
                throw json.error("added_tokens", "is not an array");
            }
            for (int i = 0; i < node.size(); i++) {
                JsonNode t = node.get(i);
                String path = "added_tokens[" + i + "]";
                if (!t.isObject()) {
                    throw json.error(path, "is not an object: " + t);
                }
                int id = json.integer(t, "id", path, -1);
                if (id < 0) {
                    throw json.error(path + ".id", "is missing or negative");
                }
                String content = json.text(t, "content", path);
                if (content.isEmpty()) {
                    throw json.error(path + ".content", "is empty");
                }
                tokens.add(new Token(id, content, json.bool(t, "single_word", path, false), json.bool(t, "lstrip", path, false),
                        json.bool(t, "rstrip", path, false), json.bool(t, "special", path, false)));
            }
        }
        return new AddedTokens(List.copyOf(tokens));
    }

    List<Token> tokens() {
        return tokens;
    }

    /** The special added token spelled {@code content}, or null. */
    Token special(String content) {
        for (Token t : tokens) {
            if (t.special && t.content.equals(content)) {
                return t;
            }
        }
        return null;
    }

    /** Cuts {@code text} into added tokens and the plain text between them, in order, covering all of it. */
    List<Segment> split(String text) {
        List<Segment> out = new ArrayList<>();
        if (matcher.isEmpty()) {
            if (!text.isEmpty()) {
                out.add(new Segment(0, text.length(), -1));
            }
            return out;
        }
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            int m = matcher.longestAt(text, i);
            if (m < 0) {
                i++;
                continue;
            }
            Token t = tokens.get(m);
            int start = i;
            int end = i + t.content.length();
            if (t.singleWord && (endsWithWordChar(text, start) || startsWithWordChar(text, end))) {
                i = end;
                continue;
            }
            while (t.lstrip && start > plainStart && UnicodeWhitespace.is(text.codePointBefore(start))) {
                start -= Character.charCount(text.codePointBefore(start));
            }
            while (t.rstrip && end < text.length() && UnicodeWhitespace.is(text.codePointAt(end))) {
                end += Character.charCount(text.codePointAt(end));
            }
            if (start > plainStart) {
                out.add(new Segment(plainStart, start, -1));
            }
            out.add(new Segment(start, end, t.id));
            plainStart = end;
            i = end;
        }
        if (plainStart < text.length()) {
            out.add(new Segment(plainStart, text.length(), -1));
        }
        return out;
    }

    private static boolean endsWithWordChar(String text, int end) {
        return end > 0 && isWordChar(text.codePointBefore(end));
    }

    private static boolean startsWithWordChar(String text, int start) {
        return start < text.length() && isWordChar(text.codePointAt(start));
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_';
    }
}
