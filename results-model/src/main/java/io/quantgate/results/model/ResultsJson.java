package io.quantgate.results.model;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The JSON binding of the results records: snake_case names, strict JSON (a number that is not finite, i.e. an
 * unbounded interval or a figure nobody measured, is written as {@code null} and read back as NaN), unknown fields
 * ignored (readers of this schema must tolerate fields newer writers add), and bounded input (nesting depth, string
 * length) so that a hostile file is an error, never a crash.
 */
public final class ResultsJson {
    private static final ObjectMapper MAPPER = newMapper();

    private ResultsJson() {
    }

    /**
     * A mapper with this binding, for other QuantGate JSON files that share its conventions (stored baselines, bench
     * documents).
     */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    private static ObjectMapper newMapper() {
        SimpleModule nonFinite = new SimpleModule("quantgate-non-finite-as-null");
        nonFinite.addSerializer(Double.class, new DoubleSerializer());
        nonFinite.addSerializer(double.class, new DoubleSerializer());
        nonFinite.addSerializer(double[].class, new DoubleArraySerializer());
        nonFinite.addDeserializer(double.class, new NanDoubleDeserializer());
        nonFinite.addDeserializer(double[].class, new DoubleArrayDeserializer());
        JsonMapper m = JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .addModule(nonFinite)
                .build();
        m.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(64).maxStringLength(1 << 20).maxNumberLength(100).build());
        return m;
    }

    /** The document as pretty-printed JSON text (with a final newline). */
    public static String toJson(Object document) {
        try {
            return MAPPER.writeValueAsString(document) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize " + document.getClass().getSimpleName() + ": "
                    + e.getOriginalMessage(), e);
        }
    }

    /** Writes the document atomically ({@link AtomicFiles}); returns the absolute path. */
    public static Path write(Path file, ResultsDocument document) {
        return AtomicFiles.writeString(file, toJson(document));
    }

    /**
     * Reads a results file; every problem (not JSON, another schema, no {@code results} array, a field of the wrong
     * type, too deep or too long) is a {@link ResultsFormatException} naming the file and where in it.
     *
     * <p>The header is checked on the parsed tree before anything is bound, so that a file of another schema (whose
     * fields may mean something else) is reported as such rather than as a field of the wrong type. The file is read
     * once: the tree and the records come from the same bytes.
     */
    public static ResultsDocument read(Path file) {
        String what = "a results file (" + ResultsSchema.ID + ")";
        byte[] bytes = readBytes(file, what);
        JsonNode root = parse(file, bytes);
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new ResultsFormatException(file, "holds JSON null, not " + what);
        }
        if (!root.isObject()) {
            throw new ResultsFormatException(file, "expected a JSON object with \"schema\": \"" + ResultsSchema.ID
                    + "\", found " + root.getNodeType().toString().toLowerCase(Locale.ROOT));
        }
        JsonNode schema = root.get("schema");
        if (schema == null || schema.isNull()) {
            throw new ResultsFormatException(file, "no \"schema\" field: not a QuantGate results file (expected "
                    + ResultsSchema.ID + ")");
        }
        String id = schema.isTextual() ? schema.asText() : schema.toString();
        if (!id.equals(ResultsSchema.ID)) {
            throw new ResultsFormatException(file, "schema is \"" + id + "\"; this version reads " + ResultsSchema.ID);
        }
        JsonNode results = root.get("results");
        if (results == null || results.isNull()) {
            throw new ResultsFormatException(file, "no \"results\" array");
        }
        ResultsDocument doc = bind(file, bytes, ResultsDocument.class, what);
        List<ResultRecord> rs = doc.results();
        for (int i = 0; i < rs.size(); i++) {
            ResultRecord r = rs.get(i);
            if (r == null) {
                throw new ResultsFormatException(file, "results[" + i + "] is null (every entry is a record)");
            }
            if (r.config() == null || r.config().isBlank()) {
                throw new ResultsFormatException(file, "results[" + i + "].config is missing (every record names it)");
            }
            if (r.backend() == null || r.backend().isBlank()) {
                throw new ResultsFormatException(file, "results[" + i + "].backend is missing (every record names it)");
            }
            if (r.perplexity() != null) {
                checkFigures(file, "results[" + i + "].perplexity", r.perplexity());
            }
        }
        return doc;
    }

    /**
     * Figures no measurement can produce are errors naming the field, so that a report never prints them: a perplexity
     * is exp(mean NLL) ≥ 1 (null when not measured), a KL divergence and a standard error are ≥ 0, a same-top share
     * is within 0…100 %.
     */
    private static void checkFigures(Path file, String at, PerplexityRecord p) {
        checkAtLeast(file, at + ".ppl_base", p.pplBase(), 1 - 1e-9, "a perplexity is exp(mean NLL) >= 1");
        checkAtLeast(file, at + ".ppl_quant", p.pplQuant(), 1 - 1e-9, "a perplexity is exp(mean NLL) >= 1");
        checkAtLeast(file, at + ".ppl_base_stderr", p.pplBaseStderr(), 0, "a standard error is >= 0");
        checkAtLeast(file, at + ".ppl_quant_stderr", p.pplQuantStderr(), 0, "a standard error is >= 0");
        checkAtLeast(file, at + ".kld_mean.estimate", p.kldMean().estimate(), -1e-9, "a KL divergence is >= 0");
        double top = p.sameTopPercent().estimate();
        if (!Double.isNaN(top) && (top < 0 || top > 100)) {
            throw new ResultsFormatException(file, at + ".same_top_percent.estimate = " + top
                    + " is not a share of positions (0 to 100)");
        }
    }

    private static void checkAtLeast(Path file, String at, double v, double min, String why) {
        if (!Double.isNaN(v) && !(v >= min)) {
            throw new ResultsFormatException(file, at + " = " + v + " cannot be measured: " + why);
        }
    }

    /**
     * Reads any QuantGate JSON file into {@code type} with this binding; problems are {@link ResultsFormatException}s
     * naming the file, the JSON path and what is wrong.
     *
     * @param what what the file should be, for the messages ("a stored baseline")
     */
    public static <T> T readValue(Path file, Class<T> type, String what) {
        byte[] bytes = readBytes(file, what);
        parse(file, bytes); // a file that is not JSON at all is reported as such, before any field is looked at
        return bind(file, bytes, type, what);
    }

    private static byte[] readBytes(Path file, String what) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ResultsFormatException(file, "cannot read: " + e, e);
        }
        if (bytes.length == 0) {
            throw new ResultsFormatException(file, "empty file, not " + what);
        }
        return bytes;
    }

    private static JsonNode parse(Path file, byte[] bytes) {
        try {
            return MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw notJson(file, e);
        } catch (IOException e) {
            throw new ResultsFormatException(file, "cannot read: " + e, e);
        }
    }

    private static <T> T bind(Path file, byte[] bytes, Class<T> type, String what) {
        try {
            T v = MAPPER.readValue(bytes, type);
            if (v == null) {
                throw new ResultsFormatException(file, "holds JSON null, not " + what);
            }
            return v;
        } catch (JsonMappingException e) {
            JsonProcessingException syntax = syntaxError(e);
            if (syntax != null) {
                throw notJson(file, syntax);
            }
            throw new ResultsFormatException(file, where(e) + problem(e), e);
        } catch (JsonProcessingException e) {
            throw notJson(file, e);
        } catch (IOException e) {
            throw new ResultsFormatException(file, "cannot read: " + e, e);
        }
    }

    private static ResultsFormatException notJson(Path file, JsonProcessingException e) {
        return new ResultsFormatException(file, "not valid JSON" + at(e.getLocation()) + ": " + problem(e), e);
    }

    /**
     * The parser's error behind a binding error: databinding wraps what the parser throws inside a nested value (a
     * truncated record, a {@code NaN}) with the path to it, but the file is then not JSON at all.
     */
    private static JsonProcessingException syntaxError(JsonMappingException e) {
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof JsonProcessingException p && !(t instanceof JsonMappingException)) {
                return p;
            }
        }
        return null;
    }

    private static String where(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                path.append('[').append(r.getIndex()).append(']');
            }
        }
        String at = at(e.getLocation());
        return (path.isEmpty() ? "" : path + ": ") + (at.isEmpty() ? "" : at.substring(1) + ": ");
    }

    private static String at(JsonLocation l) {
        return l == null || l.getLineNr() < 0 ? "" : " at line " + l.getLineNr() + ", column " + l.getColumnNr();
    }

    private static String problem(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        if (m == null) {
            m = e.getClass().getSimpleName();
        }
        // Jackson's messages end with a hint about a feature switch, which is noise for a user of QuantGate
        int hint = m.indexOf(" (through reference chain");
        m = hint > 0 ? m.substring(0, hint) : m;
        return m.length() > 300 ? m.substring(0, 297) + "..." : m;
    }

    private static final class DoubleSerializer extends JsonSerializer<Double> {
        @Override
        public void serialize(Double v, JsonGenerator g, SerializerProvider p) throws IOException {
            if (v == null || !Double.isFinite(v)) {
                g.writeNull();
            } else {
                g.writeNumber(v);
            }
        }
    }

    private static final class DoubleArraySerializer extends JsonSerializer<double[]> {
        @Override
        public void serialize(double[] v, JsonGenerator g, SerializerProvider p) throws IOException {
            g.writeStartArray(v, v.length);
            for (double x : v) {
                if (Double.isFinite(x)) {
                    g.writeNumber(x);
                } else {
                    g.writeNull();
                }
            }
            g.writeEndArray();
        }
    }

    /**
     * The number under the parser; a literal beyond the double range ({@code 1e999}) is an error, never a silent
     * infinity (which a report would print as "not measured").
     */
    private static double finite(JsonParser p, DeserializationContext ctx) throws IOException {
        double d = p.getDoubleValue();
        if (Double.isInfinite(d)) {
            ctx.reportInputMismatch(double.class, "the number " + p.getText() + " is beyond the range of a double");
        }
        return d;
    }

    /** {@code null} or an absent field reads as NaN: "not measured". */
    private static final class NanDoubleDeserializer extends JsonDeserializer<Double> {
        @Override
        public Double deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
            if (p.currentToken() == JsonToken.VALUE_NUMBER_INT || p.currentToken() == JsonToken.VALUE_NUMBER_FLOAT) {
                return finite(p, ctx);
            }
            return (Double) ctx.handleUnexpectedToken(double.class, p);
        }

        @Override
        public Double getNullValue(DeserializationContext ctx) {
            return Double.NaN;
        }

        @Override
        public Object getAbsentValue(DeserializationContext ctx) {
            return Double.NaN;
        }
    }

    private static final class DoubleArrayDeserializer extends JsonDeserializer<double[]> {
        @Override
        public double[] deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
            if (!p.isExpectedStartArrayToken()) {
                return (double[]) ctx.handleUnexpectedToken(double[].class, p);
            }
            List<Double> out = new ArrayList<>();
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t == JsonToken.VALUE_NULL) {
                    out.add(Double.NaN);
                } else if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                    out.add(finite(p, ctx));
                } else {
                    ctx.reportInputMismatch(double[].class, "expected a number or null in an array of numbers, found "
                            + t);
                }
            }
            double[] a = new double[out.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = out.get(i);
            }
            return a;
        }
    }
}
