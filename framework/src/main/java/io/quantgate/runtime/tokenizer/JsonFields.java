package io.quantgate.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Typed access to the fields of a {@code tokenizer.json} node; a missing or mistyped field is an
 * {@link IllegalArgumentException} naming the file and the JSON path.
 */
final class JsonFields {
    private final String source;

    /** @param source the file, for error messages */
    JsonFields(String source) {
        this.source = source;
    }

    String source() {
        return source;
    }

    IllegalArgumentException error(String path, String what) {
        return new IllegalArgumentException(source + ": " + path + " " + what);
    }

    /** A node's {@code "type"} string. */
    String type(JsonNode node, String path) {
        return text(node, "type", path);
    }

    String text(JsonNode node, String field, String path) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw error(path + "." + field, v == null ? "is missing" : "is not a string: " + v);
        }
        return v.asText();
    }

    /** A string field, or {@code fallback} when missing or null. */
    String textOr(JsonNode node, String field, String path, String fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw error(path + "." + field, "is not a string: " + v);
        }
        return v.asText();
    }

    boolean bool(JsonNode node, String field, String path, boolean fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw error(path + "." + field, "is not a boolean: " + v);
        }
        return v.asBoolean();
    }

    int integer(JsonNode node, String field, String path, int fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw error(path + "." + field, "is not a 32-bit integer: " + v);
        }
        return v.asInt();
    }

    JsonNode object(JsonNode node, String field, String path) {
        JsonNode v = node.get(field);
        if (v == null || !v.isObject()) {
            throw error(path + "." + field, v == null ? "is missing" : "is not an object: " + v);
        }
        return v;
    }

    JsonNode array(JsonNode node, String field, String path) {
        JsonNode v = node.get(field);
        if (v == null || !v.isArray()) {
            throw error(path + "." + field, v == null ? "is missing" : "is not an array: " + v);
        }
        return v;
    }

    /**
     * A {@code pattern} field: {@code {"String": s}} (a literal) or {@code {"Regex": r}}, as a regex
     * (literals quoted).
     */
    java.util.regex.Pattern pattern(JsonNode node, String path) {
        JsonNode p = object(node, "pattern", path);
        if (p.has("String")) {
            return java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(text(p, "String", path + ".pattern")));
        }
        if (p.has("Regex")) {
            return SplitPatterns.compile(text(p, "Regex", path + ".pattern"), source + " (" + path + ".pattern)");
        }
        throw error(path + ".pattern", "has neither \"String\" nor \"Regex\": " + p);
    }
}
