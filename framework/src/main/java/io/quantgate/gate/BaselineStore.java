package io.quantgate.gate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantgate.results.model.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Stored speed baselines: JSON files in the user's repository (by default
 * {@code src/test/resources/quantgate/baselines/}), one file per model, config and backend
 * ({@code <model>/<config>-<backend>.json}), each holding entries for several measurements and machines.
 * The format is in {@code docs/user-guide.md}.
 *
 * <p>A lookup finds the entry whose {@link StoredBaseline.Key} and {@link MachineFingerprint#id()} both
 * match; an entry of the same measurement from another machine is reported with what differs, never used.
 * {@link #record} rewrites a file atomically (temporary file in the same directory, then an atomic move);
 * writers in one JVM are serialized per file. A file that is not valid baseline JSON is an error naming it
 * (it is never silently replaced).
 */
public final class BaselineStore {
    public static final String SCHEMA = "quantgate-baseline/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ConcurrentHashMap<Path, Object> LOCKS = new ConcurrentHashMap<>();

    private final Path dir;

    public BaselineStore(Path dir) {
        this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
    }

    public Path dir() {
        return dir;
    }

    /** What a lookup found. */
    public sealed interface Lookup {
        Path file();

        /** Why nothing can be compared (empty for {@link Found}). */
        String explanation();

        record Found(Path file, StoredBaseline baseline) implements Lookup {
            @Override
            public String explanation() {
                return "";
            }
        }

        record NotFound(Path file, String explanation) implements Lookup {
        }
    }

    /** The file that holds baselines of this model, config and backend. */
    public Path fileFor(String modelName, StoredBaseline.Key key) {
        return dir.resolve(slug(modelName, false)).resolve(slug(key.config(), true) + "-" + slug(key.backend(), false)
                + ".json");
    }

    public Lookup find(String modelName, StoredBaseline.Key key, MachineFingerprint here) {
        Path file = fileFor(modelName, key);
        if (!Files.isRegularFile(file)) {
            return new Lookup.NotFound(file, "no stored baseline: " + file + " does not exist");
        }
        List<StoredBaseline> all = read(file);
        List<StoredBaseline> sameMeasurement = new ArrayList<>();
        List<StoredBaseline> sameInputs = new ArrayList<>();
        for (StoredBaseline b : all) {
            StoredBaseline.Key k = b.key();
            if (k.level().equals(key.level()) && k.label().equals(key.label()) && k.activations().equals(key.activations())
                    && k.config().equals(key.config()) && k.backend().equals(key.backend())) {
                sameMeasurement.add(b);
                if (k.equals(key)) {
                    sameInputs.add(b);
                }
            }
        }
        String id = here.id();
        for (StoredBaseline b : sameInputs) {
            if (b.fingerprint().id().equals(id)) {
                return new Lookup.Found(file, b);
            }
        }
        if (!sameInputs.isEmpty()) {
            StringBuilder s = new StringBuilder("the stored baseline of " + key.label() + " in " + file
                    + " was measured on another machine and is not compared (this machine " + id + ": ");
            for (StoredBaseline b : sameInputs) {
                s.append("fingerprint ").append(b.fingerprint().id()).append(" differs in ")
                        .append(String.join("; ", here.differencesFrom(b.fingerprint()))).append(". ");
            }
            return new Lookup.NotFound(file, s.toString().strip() + ")");
        }
        if (!sameMeasurement.isEmpty()) {
            StoredBaseline.Key other = sameMeasurement.get(0).key();
            return new Lookup.NotFound(file, "the stored baselines of " + key.label() + " in " + file
                    + " are of other inputs (model sha256 " + abbrev(other.modelSha256()) + " there, "
                    + abbrev(key.modelSha256()) + " here; tokenizer " + abbrev(other.tokenizerSha256()) + " / "
                    + abbrev(key.tokenizerSha256()) + "; data " + abbrev(other.dataSha256()) + " / "
                    + abbrev(key.dataSha256()) + ")");
        }
        return new Lookup.NotFound(file, "no stored baseline of " + key.level() + " " + key.label() + " ("
                + key.activations() + " activations) in " + file);
    }

    /** Adds or replaces (same key and machine) the entry of {@code b}, atomically. */
    public Path record(String modelName, StoredBaseline b) {
        Path file = fileFor(modelName, b.key());
        synchronized (LOCKS.computeIfAbsent(file, f -> new Object())) {
            List<StoredBaseline> all = Files.isRegularFile(file) ? read(file) : new ArrayList<>();
            all.removeIf(e -> e.key().equals(b.key()) && e.fingerprint().id().equals(b.fingerprint().id()));
            all.add(b);
            ObjectNode root = JSON.createObjectNode();
            root.put("schema", SCHEMA);
            root.put("model", modelName);
            root.put("config", b.key().config());
            root.put("backend", b.key().backend());
            ArrayNode entries = root.putArray("entries");
            for (StoredBaseline e : all) {
                entries.add(toJson(e));
            }
            try {
                AtomicFiles.writeString(file, JSON.writeValueAsString(root) + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write baseline file " + file + ": " + e.getMessage(), e);
            }
        }
        return file;
    }

    static ObjectNode toJson(StoredBaseline e) {
        ObjectNode n = JSON.createObjectNode();
        ObjectNode k = n.putObject("key");
        k.put("model_sha256", e.key().modelSha256());
        k.put("tokenizer_sha256", e.key().tokenizerSha256());
        k.put("data_sha256", e.key().dataSha256());
        k.put("config", e.key().config());
        k.put("backend", e.key().backend());
        k.put("level", e.key().level());
        k.put("label", e.key().label());
        k.put("activations", e.key().activations());
        n.put("fingerprint_id", e.fingerprint().id());
        n.set("fingerprint", JSON.valueToTree(e.fingerprint().toMap()));
        n.put("unit", e.unit());
        ArrayNode s = n.putArray("samples");
        for (double v : e.samples()) {
            s.add(v);
        }
        n.put("recorded_at", e.recordedAt());
        n.put("quantgate_version", e.version());
        n.put("test", e.test());
        return n;
    }

    /**
     * @throws IllegalArgumentException naming the file and what is wrong when it is not a baseline file
     */
    static List<StoredBaseline> read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("baseline file " + file + " is not valid JSON: "
                    + e.getOriginalMessage() + " (line " + e.getLocation().getLineNr() + "); fix or delete it", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read baseline file " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "the top level is not a JSON object");
        }
        if (!SCHEMA.equals(root.path("schema").asText(null))) {
            throw bad(file, "'schema' is " + root.path("schema") + ", expected \"" + SCHEMA + "\"");
        }
        JsonNode entries = root.get("entries");
        if (entries == null || !entries.isArray()) {
            throw bad(file, "'entries' is missing or not an array");
        }
        List<StoredBaseline> out = new ArrayList<>();
        int i = 0;
        for (JsonNode e : entries) {
            String where = "entry " + i++;
            JsonNode k = e.get("key");
            if (k == null || !k.isObject()) {
                throw bad(file, where + " has no 'key' object");
            }
            StoredBaseline.Key key;
            try {
                key = new StoredBaseline.Key(text(file, where, k, "model_sha256", true), text(file, where, k,
                        "tokenizer_sha256", false), text(file, where, k, "data_sha256", false),
                        text(file, where, k, "config", true), text(file, where, k, "backend", true),
                        text(file, where, k, "level", true), text(file, where, k, "label", true),
                        text(file, where, k, "activations", true));
            } catch (NullPointerException ex) {
                throw bad(file, where + ": " + ex.getMessage());
            }
            JsonNode f = e.get("fingerprint");
            if (f == null || !f.isObject()) {
                throw bad(file, where + " has no 'fingerprint' object");
            }
            List<String> simd = new ArrayList<>();
            JsonNode simdNode = f.get("simd");
            if (simdNode == null || !simdNode.isArray()) {
                throw bad(file, where + ": fingerprint.simd is missing or not an array");
            }
            simdNode.forEach(x -> simd.add(x.asText()));
            if (!f.path("cores").canConvertToInt() || !f.path("threads").canConvertToInt()) {
                throw bad(file, where + ": fingerprint.cores / fingerprint.threads must be integers");
            }
            MachineFingerprint fp = new MachineFingerprint(text(file, where, f, "cpu", true), f.get("cores").asInt(),
                    simd, text(file, where, f, "isa", true), f.get("threads").asInt(), text(file, where, f, "jvm", true),
                    text(file, where, f, "os", true));
            JsonNode s = e.get("samples");
            if (s == null || !s.isArray() || s.isEmpty()) {
                throw bad(file, where + ": 'samples' is missing, not an array or empty");
            }
            double[] samples = new double[s.size()];
            for (int j = 0; j < samples.length; j++) {
                JsonNode v = s.get(j);
                if (!v.isNumber() || !Double.isFinite(v.asDouble()) || v.asDouble() <= 0) {
                    throw bad(file, where + ": samples[" + j + "] = " + v + " is not a positive finite number");
                }
                samples[j] = v.asDouble();
            }
            out.add(new StoredBaseline(key, fp, samples, e.path("unit").asText(""), e.path("recorded_at").asText(""),
                    e.path("quantgate_version").asText(""), e.path("test").asText("")));
        }
        return out;
    }

    private static String text(Path file, String where, JsonNode obj, String field, boolean required) {
        JsonNode v = obj.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw bad(file, where + " lacks '" + field + "'");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw bad(file, where + ": '" + field + "' is not a string");
        }
        return v.asText();
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException("baseline file " + file + " is malformed: " + what + "; fix or delete it");
    }

    private static String abbrev(String sha) {
        return sha == null ? "-" : sha.substring(0, Math.min(12, sha.length()));
    }

    /**
     * A file-name-safe form: characters other than letters, digits, '.', '_' and '-' become '_'; with
     * {@code hashed}, a short hash of the original is appended when anything was replaced (so that
     * {@code mixed:attn.*=fp4-g32} and {@code mixed:attn.?=fp4-g32} do not share a file).
     */
    static String slug(String s, boolean hashed) {
        String t = s.replaceAll("[^A-Za-z0-9._-]", "_");
        if (t.length() > 80) {
            t = t.substring(0, 80);
        }
        if (hashed && !t.equals(s)) {
            t += "-" + sha256(s).substring(0, 8);
        }
        return t.isEmpty() ? "_" : t;
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "BaselineStore[%s]", dir);
    }
}
