package io.quantgate.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code decoder} of a {@code tokenizer.json}, reduced to what one token contributes to the text:
 * <ul>
 *   <li>{@code ByteFallback}: a {@code <0xNN>} token is that byte;</li>
 *   <li>{@code Replace} (e.g. {@code ▁} → space) and {@code Metaspace} (its replacement → space) rewrite
 *       the token text;</li>
 *   <li>{@code ByteLevel}: each character is the byte it stands for ({@link ByteLevelAlphabet});</li>
 *   <li>{@code Fuse}: joins tokens, which decoding into one byte stream does anyway;</li>
 *   <li>{@code Strip} with {@code start = n} and {@code Metaspace} with a prepend scheme other than
 *       {@code never} remove the leading space(s) that the dummy prefix added, which {@link HuggingFaceTokenizer}
 *       does on the first token after BOS or the sequence start. {@code Strip} with {@code stop > 0} is not
 *       supported.</li>
 * </ul>
 * No decoder at all means tokens are joined verbatim (Hugging Face would join them with spaces).
 */
final class HfDecoder {
    private record Replace(Pattern pattern, String content) {
        String apply(String s) {
            return pattern.matcher(s).replaceAll(Matcher.quoteReplacement(content));
        }
    }

    private final List<Replace> replaces;
    private final boolean byteLevel;
    private final boolean byteFallback;
    /** What is stripped from the start of the first token (as decoded bytes), and at most how many times. */
    private final byte[] stripContent;
    private final int stripCount;

    private HfDecoder(List<Replace> replaces, boolean byteLevel, boolean byteFallback, String stripContent, int stripCount) {
        this.replaces = replaces;
        this.byteLevel = byteLevel;
        this.byteFallback = byteFallback;
        this.stripContent = stripContent.getBytes(StandardCharsets.UTF_8);
        this.stripCount = stripContent.isEmpty() ? 0 : stripCount;
    }

    /** Mutable state while a decoder node tree is read. */
    private static final class Builder {
        final List<Replace> replaces = new ArrayList<>();
        boolean byteLevel;
        boolean byteFallback;
        String stripContent = "";
        int stripReplacesBefore;
        int stripCount;
    }

    /** @param node the {@code decoder} node; null or JSON null for none */
    static HfDecoder parse(JsonNode node, JsonFields json) {
        Builder b = new Builder();
        if (node != null && !node.isNull()) {
            add(node, "decoder", json, b);
        }
        // a Strip placed before a Replace sees the text before that replacement: strip its replaced form
        String content = b.stripContent;
        for (int i = b.stripReplacesBefore; i < b.replaces.size(); i++) {
            content = b.replaces.get(i).apply(content);
        }
        return new HfDecoder(List.copyOf(b.replaces), b.byteLevel, b.byteFallback, content, b.stripCount);
    }

    private static void add(JsonNode node, String path, JsonFields json, Builder b) {
        if (!node.isObject()) {
            throw json.error(path, "is not an object: " + node);
        }
        String type = json.type(node, path);
        switch (type) {
            case "Sequence" -> {
                JsonNode list = json.array(node, "decoders", path);
                for (int i = 0; i < list.size(); i++) {
                    add(list.get(i), path + ".decoders[" + i + "]", json, b);
                }
            }
            case "ByteLevel" -> b.byteLevel = true;
            case "ByteFallback" -> b.byteFallback = true;
            case "Fuse" -> {
            }
            case "Replace" -> b.replaces.add(new Replace(json.pattern(node, path), json.text(node, "content", path)));
            case "Strip" -> {
                if (json.integer(node, "stop", path, 0) != 0) {
                    throw json.error(path + ".stop", "is not 0: stripping the end of the text is not supported");
                }
                b.stripContent = json.text(node, "content", path);
                b.stripCount = json.integer(node, "start", path, 0);
                b.stripReplacesBefore = b.replaces.size();
            }
            case "Metaspace" -> {
                String replacement = json.text(node, "replacement", path);
                b.replaces.add(new Replace(Pattern.compile(Pattern.quote(replacement)), " "));
                String scheme = json.textOr(node, "prepend_scheme", path,
                        json.bool(node, "add_prefix_space", path, true) ? "always" : "never");
                if (!scheme.equals("never")) {
                    b.stripContent = " ";
                    b.stripCount = 1;
                    b.stripReplacesBefore = b.replaces.size();
                }
            }
            default -> throw json.error(path, "has type '" + type + "', which is not supported (supported: Sequence, "
                    + "ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace)");
        }
    }

    /** The bytes one vocabulary token decodes to (no stripping). */
    byte[] tokenBytes(String token) {
        if (byteFallback) {
            int b = BytePiece.value(token);
            if (b >= 0) {
                return new byte[] {(byte) b};
            }
        }
        String s = token;
        for (Replace r : replaces) {
            s = r.apply(s);
        }
        return byteLevel ? ByteLevelAlphabet.decode(s) : s.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code bytes} without the leading strip content (up to the configured count); the same array if none. */
    byte[] stripLeading(byte[] bytes) {
        int from = 0;
        for (int k = 0; k < stripCount && startsWith(bytes, from, stripContent); k++) {
            from += stripContent.length;
        }
        return from == 0 ? bytes : java.util.Arrays.copyOfRange(bytes, from, bytes.length);
    }

    boolean stripsLeading() {
        return stripCount > 0;
    }

    private static boolean startsWith(byte[] bytes, int from, byte[] prefix) {
        if (bytes.length - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
