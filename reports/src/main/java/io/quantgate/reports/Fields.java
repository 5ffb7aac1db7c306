package io.quantgate.reports;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed access to one JSON object of a results file, with the path of the object ({@code results[3].perplexity})
 * so that a field of the wrong type is reported as "file: results[3].perplexity.ppl_base must be a number, was
 * "abc"". Absent fields and JSON {@code null} read as "not measured" (NaN, null): the schema writes null for
 * figures that were not measured, and consumers must tolerate fields that older writers did not have.
 */
final class Fields {
    private final Path file;
    private final String path;
    private final JsonNode node;

    Fields(Path file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    String path() {
        return path;
    }

    private ResultsFormatException wrong(String field, String expected, JsonNode value) {
        String shown = value.toString();
        if (shown.length() > 60) {
            shown = shown.substring(0, 57) + "...";
        }
        return new ResultsFormatException(file, where(field) + " must be " + expected + ", was " + shown);
    }

    private String where(String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    private JsonNode value(String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    boolean has(String field) {
        return value(field) != null;
    }

    String string(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw wrong(field, "a string", v);
        }
        return v.asText();
    }

    String requiredString(String field) {
        String s = string(field);
        if (s == null || s.isBlank()) {
            throw new ResultsFormatException(file, where(field) + " is missing (every record names it)");
        }
        return s;
    }

    /** A number, or NaN when absent or null (a figure that was not measured). */
    double number(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return Double.NaN;
        }
        if (!v.isNumber()) {
            throw wrong(field, "a number", v);
        }
        return v.asDouble();
    }

    Integer integer(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw wrong(field, "an integer", v);
        }
        return v.asInt();
    }

    Boolean bool(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isBoolean()) {
            throw wrong(field, "true or false", v);
        }
        return v.asBoolean();
    }

    /** A nested object, or null when absent. */
    Fields object(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return null;
        }
        if (!v.isObject()) {
            throw wrong(field, "an object", v);
        }
        return new Fields(file, where(field), v);
    }

    /** The objects of an array field; empty when absent. */
    List<Fields> objects(String field) {
        JsonNode v = value(field);
        List<Fields> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (!v.isArray()) {
            throw wrong(field, "an array", v);
        }
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            String p = where(field) + "[" + i + "]";
            if (!e.isObject()) {
                throw new ResultsFormatException(file, p + " must be an object, was " + e.getNodeType());
            }
            out.add(new Fields(file, p, e));
        }
        return out;
    }

    /** The numbers of an array field (null entries become NaN); empty when absent. */
    double[] numbers(String field) {
        JsonNode v = value(field);
        if (v == null) {
            return new double[0];
        }
        if (!v.isArray()) {
            throw wrong(field, "an array of numbers", v);
        }
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (e.isNull()) {
                out[i] = Double.NaN;
            } else if (e.isNumber()) {
                out[i] = e.asDouble();
            } else {
                throw wrong(field + "[" + i + "]", "a number", e);
            }
        }
        return out;
    }

    List<String> strings(String field) {
        JsonNode v = value(field);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (!v.isArray()) {
            throw wrong(field, "an array of strings", v);
        }
        for (JsonNode e : v) {
            out.add(e.isTextual() ? e.asText() : e.toString());
        }
        return out;
    }

    /** An interval object {@code {estimate, low, high, level}}; {@link Interval#NONE} when absent. */
    Interval interval(String field) {
        Fields o = object(field);
        if (o == null) {
            return Interval.NONE;
        }
        return new Interval(o.number("estimate"), o.number("low"), o.number("high"));
    }
}
