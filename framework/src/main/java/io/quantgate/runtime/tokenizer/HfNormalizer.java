package io.quantgate.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code normalizer} of a {@code tokenizer.json}: string rewrites applied to each stretch of text
 * between added tokens, before pre-tokenization. Supported types: {@code Sequence}, {@code Prepend}
 * (only to non-empty text), {@code Replace} (literal or regex), {@code NFC}, {@code NFD}, {@code NFKC},
 * {@code NFKD}, {@code Lowercase}, {@code Strip}. Others (e.g. {@code Precompiled}, {@code BertNormalizer})
 * are rejected when the file is loaded.
 */
final class HfNormalizer {
    private final List<UnaryOperator<String>> steps;

    private HfNormalizer(List<UnaryOperator<String>> steps) {
        this.steps = steps;
    }

    /** @param node the {@code normalizer} node; null or JSON null for none */
    static HfNormalizer parse(JsonNode node, JsonFields json) {
        List<UnaryOperator<String>> steps = new ArrayList<>();
        if (node != null && !node.isNull()) {
            add(node, "normalizer", json, steps);
        }
        return new HfNormalizer(steps);
    }

    String apply(String text) {
        String s = text;
        for (UnaryOperator<String> step : steps) {
            s = step.apply(s);
        }
        return s;
    }

    private static void add(JsonNode node, String path, JsonFields json, List<UnaryOperator<String>> steps) {
        if (!node.isObject()) {
            throw json.error(path, "is not an object: " + node);
        }
        String type = json.type(node, path);
        switch (type) {
            case "Sequence" -> {
                JsonNode list = json.array(node, "normalizers", path);
                for (int i = 0; i < list.size(); i++) {
                    add(list.get(i), path + ".normalizers[" + i + "]", json, steps);
                }
            }
            case "Prepend" -> {
                String prefix = json.text(node, "prepend", path);
                steps.add(s -> s.isEmpty() ? s : prefix + s);
            }
            case "Replace" -> {
                Pattern pattern = json.pattern(node, path);
                String content = Matcher.quoteReplacement(json.text(node, "content", path));
                String where = json.source() + " (" + path + ".pattern)";
                steps.add(s -> {
                    try {
                        return BoundedRegex.matcher(pattern, s).replaceAll(content);
                    } catch (BoundedRegex.Exceeded e) {
                        throw BoundedRegex.error(where, pattern, s, e);
                    }
                });
            }
            case "NFC" -> steps.add(s -> Normalizer.normalize(s, Normalizer.Form.NFC));
            case "NFD" -> steps.add(s -> Normalizer.normalize(s, Normalizer.Form.NFD));
            case "NFKC" -> steps.add(s -> Normalizer.normalize(s, Normalizer.Form.NFKC));
            case "NFKD" -> steps.add(s -> Normalizer.normalize(s, Normalizer.Form.NFKD));
            case "Lowercase" -> steps.add(s -> s.toLowerCase(Locale.ROOT));
            case "Strip" -> {
                boolean left = json.bool(node, "strip_left", path, true);
                boolean right = json.bool(node, "strip_right", path, true);
                steps.add(s -> strip(s, left, right));
            }
            default -> throw json.error(path, "has type '" + type + "', which is not supported (supported: Sequence, "
                    + "Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip)");
        }
    }

    private static String strip(String s, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && UnicodeWhitespace.is(s.codePointAt(start))) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (right && end > start && UnicodeWhitespace.is(s.codePointBefore(end))) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }
}
