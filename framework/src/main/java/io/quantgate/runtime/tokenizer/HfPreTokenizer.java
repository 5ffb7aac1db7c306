package io.quantgate.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code pre_tokenizer} of a {@code tokenizer.json}: cuts normalized text into words that BPE encodes
 * one by one (no token spans two words). Each step cuts every piece the previous steps left. Supported:
 * <ul>
 *   <li>{@code Split}: a literal or regex pattern ({@link SplitPatterns#compile}) with behaviour
 *       {@code Isolated}, {@code Removed}, {@code MergedWithPrevious}, {@code MergedWithNext} or
 *       {@code Contiguous}, and {@code invert};</li>
 *   <li>{@code ByteLevel}: optional prefix space, GPT-2's regex when {@code use_regex} (default true),
 *       then every byte becomes its {@link ByteLevelAlphabet} character;</li>
 *   <li>{@code Metaspace}: spaces become the replacement ({@code ▁}), prepended per {@code prepend_scheme}
 *       ({@code always}, {@code first}: only to the piece at the start of the input, {@code never}; older
 *       files: {@code add_prefix_space}), split before each replacement when {@code split};</li>
 *   <li>{@code Digits}: digits isolated, one by one when {@code individual_digits};</li>
 *   <li>{@code Sequence} of the above.</li>
 * </ul>
 * Others are rejected when the file is loaded.
 */
final class HfPreTokenizer {
    /** One step; {@code atStart} says whether {@code pieces.get(0)} begins at the start of the input text. */
    private interface Step {
        List<String> apply(List<String> pieces, boolean atStart);
    }

    private enum Behavior { ISOLATED, REMOVED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS }

    private final List<Step> steps;
    private final boolean byteLevel;

    private HfPreTokenizer(List<Step> steps, boolean byteLevel) {
        this.steps = steps;
        this.byteLevel = byteLevel;
    }

    /** @param node the {@code pre_tokenizer} node; null or JSON null for none (the text is one word) */
    static HfPreTokenizer parse(JsonNode node, JsonFields json) {
        List<Step> steps = new ArrayList<>();
        boolean[] byteLevel = new boolean[1];
        if (node != null && !node.isNull()) {
            add(node, "pre_tokenizer", json, steps, byteLevel);
        }
        return new HfPreTokenizer(steps, byteLevel[0]);
    }

    /** Whether a {@code ByteLevel} step maps the words to the byte-level alphabet. */
    boolean isByteLevel() {
        return byteLevel;
    }

    List<String> apply(String text, boolean atStart) {
        List<String> pieces = List.of(text);
        for (Step step : steps) {
            pieces = step.apply(pieces, atStart);
        }
        return pieces;
    }

    private static void add(JsonNode node, String path, JsonFields json, List<Step> steps, boolean[] byteLevel) {
        if (!node.isObject()) {
            throw json.error(path, "is not an object: " + node);
        }
        String type = json.type(node, path);
        switch (type) {
            case "Sequence" -> {
                JsonNode list = json.array(node, "pretokenizers", path);
                for (int i = 0; i < list.size(); i++) {
                    add(list.get(i), path + ".pretokenizers[" + i + "]", json, steps, byteLevel);
                }
            }
            case "Split" -> {
                Pattern pattern = json.pattern(node, path);
                Behavior behavior = behavior(json.text(node, "behavior", path), path, json);
                boolean invert = json.bool(node, "invert", path, false);
                String where = json.source() + " (" + path + ".pattern)";
                steps.add(eachPiece(s -> split(s, pattern, behavior, invert, where)));
            }
            case "ByteLevel" -> {
                boolean prefixSpace = json.bool(node, "add_prefix_space", path, true);
                boolean useRegex = json.bool(node, "use_regex", path, true);
                Pattern gpt2 = SplitPatterns.compile(SplitPatterns.GPT2, json.source());
                String where = json.source() + " (" + path + ", GPT-2's regex)";
                byteLevel[0] = true;
                steps.add(eachPiece(s -> {
                    String t = prefixSpace && !s.startsWith(" ") ? " " + s : s;
                    List<String> words = useRegex ? split(t, gpt2, Behavior.ISOLATED, false, where) : List.of(t);
                    return words.stream().map(ByteLevelAlphabet::encode).toList();
                }));
            }
            case "Metaspace" -> {
                String replacement = json.text(node, "replacement", path);
                if (replacement.codePointCount(0, replacement.length()) != 1) {
                    throw json.error(path + ".replacement", "is not one character: '" + replacement + "'");
                }
                String scheme = json.textOr(node, "prepend_scheme", path,
                        json.bool(node, "add_prefix_space", path, true) ? "always" : "never");
                if (!scheme.equals("always") && !scheme.equals("first") && !scheme.equals("never")) {
                    throw json.error(path + ".prepend_scheme", "is '" + scheme + "', not always/first/never");
                }
                boolean splitWords = json.bool(node, "split", path, true);
                Pattern delimiter = Pattern.compile(Pattern.quote(replacement));
                steps.add((pieces, atStart) -> {
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < pieces.size(); i++) {
                        String s = pieces.get(i).replace(" ", replacement);
                        boolean prepend = scheme.equals("always") || (scheme.equals("first") && i == 0 && atStart);
                        if (prepend && !s.startsWith(replacement)) {
                            s = replacement + s;
                        }
                        out.addAll(splitWords ? split(s, delimiter, Behavior.MERGED_WITH_NEXT, false, json.source()) : List.of(s));
                    }
                    return out;
                });
            }
            case "Digits" -> {
                Pattern digits = Pattern.compile(json.bool(node, "individual_digits", path, false)
                        ? "[\\p{Nd}\\p{Nl}\\p{No}]" : "[\\p{Nd}\\p{Nl}\\p{No}]+");
                steps.add(eachPiece(s -> split(s, digits, Behavior.ISOLATED, false, json.source())));
            }
            default -> throw json.error(path, "has type '" + type + "', which is not supported (supported: Sequence, "
                    + "Split, ByteLevel, Metaspace, Digits)");
        }
    }

    private static Step eachPiece(java.util.function.Function<String, List<String>> f) {
        return (pieces, atStart) -> {
            List<String> out = new ArrayList<>();
            for (String p : pieces) {
                out.addAll(f.apply(p));
            }
            return out;
        };
    }

    private static Behavior behavior(String name, String path, JsonFields json) {
        return switch (name) {
            case "Isolated" -> Behavior.ISOLATED;
            case "Removed" -> Behavior.REMOVED;
            case "MergedWithPrevious" -> Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> Behavior.CONTIGUOUS;
            default -> throw json.error(path + ".behavior", "is '" + name + "', not one of Isolated, Removed, "
                    + "MergedWithPrevious, MergedWithNext, Contiguous");
        };
    }

    /** A stretch of the text and whether the pattern matched it. */
    private record Span(int start, int end, boolean match) {
    }

    /**
     * Hugging Face's {@code NormalizedString::split}: cut at the matches, then treat them per behaviour. The
     * matching is {@link BoundedRegex bounded}; {@code where} names the file and pattern for its error.
     */
    private static List<String> split(String s, Pattern pattern, Behavior behavior, boolean invert, String where) {
        List<Span> spans = new ArrayList<>();
        Matcher m = BoundedRegex.matcher(pattern, s);
        int last = 0;
        try {
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue;
                }
                if (m.start() > last) {
                    spans.add(new Span(last, m.start(), invert));
                }
                spans.add(new Span(m.start(), m.end(), !invert));
                last = m.end();
            }
        } catch (BoundedRegex.Exceeded e) {
            throw BoundedRegex.error(where, pattern, s, e);
        }
        if (last < s.length()) {
            spans.add(new Span(last, s.length(), invert));
        }
        List<Span> kept = new ArrayList<>();
        switch (behavior) {
            case ISOLATED -> kept = spans;
            case REMOVED -> spans.stream().filter(x -> !x.match).forEach(kept::add);
            case CONTIGUOUS -> {
                for (Span x : spans) {
                    Span prev = kept.isEmpty() ? null : kept.getLast();
                    if (prev != null && prev.match && x.match) {
                        kept.set(kept.size() - 1, new Span(prev.start, x.end, true));
                    } else {
                        kept.add(x);
                    }
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                // a match joins the piece before it, unless that piece is itself a match
                boolean previousMatch = false;
                for (Span x : spans) {
                    if (x.match && !previousMatch && !kept.isEmpty()) {
                        Span prev = kept.getLast();
                        kept.set(kept.size() - 1, new Span(prev.start, x.end, prev.match));
                    } else {
                        kept.add(x);
                    }
                    previousMatch = x.match;
                }
            }
            case MERGED_WITH_NEXT -> {
                // mirror image: scan from the right, a match joins the piece after it unless that is a match
                boolean previousMatch = false;
                for (int i = spans.size() - 1; i >= 0; i--) {
                    Span x = spans.get(i);
                    if (x.match && !previousMatch && !kept.isEmpty()) {
                        Span after = kept.getLast();
                        kept.set(kept.size() - 1, new Span(x.start, after.end, after.match));
                    } else {
                        kept.add(x);
                    }
                    previousMatch = x.match;
                }
                java.util.Collections.reverse(kept);
            }
            default -> throw new IllegalStateException(behavior.toString());
        }
        List<String> out = new ArrayList<>(kept.size());
        for (Span x : kept) {
            out.add(s.substring(x.start, x.end));
        }
        return out;
    }
}
