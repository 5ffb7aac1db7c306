package io.quantgate.gate;

import io.quantgate.results.model.AtomicFiles;
import io.quantgate.results.model.Fingerprint;
import io.quantgate.results.model.ResultsFormatException;
import io.quantgate.results.model.ResultsJson;

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
            AtomicFiles.writeString(file, ResultsJson.toJson(new BaselineFile(SCHEMA, modelName, b.key().config(),
                    b.key().backend(), all.stream().map(BaselineStore::entry).toList())));
        }
        return file;
    }

    /** A baseline file as stored (JSON by data binding, snake_case). */
    record BaselineFile(String schema, String model, String config, String backend, List<Entry> entries) {
    }

    /** What a baseline is of, as stored (checked field by field when read, see {@link StoredBaseline.Key}). */
    record StoredKey(String modelSha256, String tokenizerSha256, String dataSha256, String config, String backend,
                     String level, String label, String activations) {
    }

    /** One stored baseline. */
    record Entry(StoredKey key, String fingerprintId, Fingerprint fingerprint, String unit, double[] samples,
                 String recordedAt, String quantgateVersion, String test) {
    }

    static Entry entry(StoredBaseline e) {
        MachineFingerprint f = e.fingerprint();
        StoredBaseline.Key k = e.key();
        return new Entry(new StoredKey(k.modelSha256(), k.tokenizerSha256(), k.dataSha256(), k.config(), k.backend(),
                k.level(), k.label(), k.activations()), f.id(), new Fingerprint(f.cpu(), f.cores(), f.simd(), f.isa(), f.threads(), f.jvm(),
                f.os(), f.id()), e.unit(), e.samples(), e.recordedAt(), e.version(), e.test());
    }

    /**
     * @throws IllegalArgumentException naming the file and what is wrong when it is not a baseline file
     */
    static List<StoredBaseline> read(Path file) {
        BaselineFile root;
        try {
            root = ResultsJson.readValue(file, BaselineFile.class, "a stored baseline");
        } catch (ResultsFormatException e) {
            String what = e.getMessage().substring(Math.min(e.getMessage().length(), file.toString().length() + 2));
            throw new IllegalArgumentException("baseline file " + file + " is "
                    + (what.startsWith("not valid JSON") ? "" : "malformed: ") + what + "; fix or delete it", e);
        }
        if (!SCHEMA.equals(root.schema())) {
            throw bad(file, "'schema' is " + (root.schema() == null ? "missing" : "\"" + root.schema() + "\"")
                    + ", expected \"" + SCHEMA + "\"");
        }
        if (root.entries() == null) {
            throw bad(file, "'entries' is missing or not an array");
        }
        List<StoredBaseline> out = new ArrayList<>();
        for (int i = 0; i < root.entries().size(); i++) {
            String where = "entry " + i;
            Entry e = root.entries().get(i);
            if (e == null || e.key() == null) {
                throw bad(file, where + " has no 'key' object");
            }
            StoredKey k = e.key();
            required(file, where, "model_sha256", k.modelSha256());
            required(file, where, "config", k.config());
            required(file, where, "backend", k.backend());
            required(file, where, "level", k.level());
            required(file, where, "label", k.label());
            required(file, where, "activations", k.activations());
            Fingerprint f = e.fingerprint();
            if (f == null) {
                throw bad(file, where + " has no 'fingerprint' object");
            }
            if (f.cores() == null || f.threads() == null) {
                throw bad(file, where + ": fingerprint.cores / fingerprint.threads must be integers");
            }
            required(file, where, "cpu", f.cpu());
            required(file, where, "isa", f.isa());
            required(file, where, "jvm", f.jvm());
            required(file, where, "os", f.os());
            MachineFingerprint fp = new MachineFingerprint(f.cpu(), f.cores(), f.simd(), f.isa(), f.threads(), f.jvm(),
                    f.os());
            double[] samples = e.samples();
            if (samples == null || samples.length == 0) {
                throw bad(file, where + ": 'samples' is missing, not an array or empty");
            }
            for (int j = 0; j < samples.length; j++) {
                if (!(samples[j] > 0) || !Double.isFinite(samples[j])) {
                    throw bad(file, where + ": samples[" + j + "] = " + samples[j] + " is not a positive finite number");
                }
            }
            StoredBaseline.Key key = new StoredBaseline.Key(k.modelSha256(), k.tokenizerSha256(), k.dataSha256(),
                    k.config(), k.backend(), k.level(), k.label(), k.activations());
            out.add(new StoredBaseline(key, fp, samples, orEmpty(e.unit()), orEmpty(e.recordedAt()),
                    orEmpty(e.quantgateVersion()), orEmpty(e.test())));
        }
        return out;
    }

    private static void required(Path file, String where, String field, String value) {
        if (value == null || value.isBlank()) {
            throw bad(file, where + " lacks '" + field + "'");
        }
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
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
