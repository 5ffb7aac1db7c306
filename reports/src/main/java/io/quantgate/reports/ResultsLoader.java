package io.quantgate.reports;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads results files ({@code quantgate-results/1}, docs/results-schema.md) named on the command line: a file is
 * read as a results file; a directory is searched recursively for {@code results.json} (which must be one) and
 * for other {@code *.json} files whose top-level {@code schema} is a QuantGate results schema (a report's own JSON
 * exports are skipped; other JSON files there, such as stored baselines, are listed as ignored).
 *
 * <p>A file that should be results and cannot be read (not JSON, another schema, a field of the wrong type) is a
 * {@link ResultsFormatException} naming the file and what is wrong: a report that silently left out a file would
 * show a wrong picture. Unknown fields are ignored, as the schema asks of consumers.
 */
public final class ResultsLoader {
    public static final String SCHEMA = "quantgate-results/1";
    private static final String SCHEMA_FAMILY = "quantgate-results/";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * The JSON exports a report writes next to its results: regenerating in place would otherwise list them as
     * "ignored" in every report.
     */
    private static final Set<String> OWN_EXPORTS = Set.of(BenchmarkExports.BENCHER, BenchmarkExports.GITHUB_BIGGER,
            BenchmarkExports.GITHUB_SMALLER);

    private ResultsLoader() {
    }

    /** Reads every results file named by {@code inputs} (files or directories). */
    public static ResultsSet load(List<Path> inputs) {
        Set<Path> seen = new LinkedHashSet<>();
        List<ResultsFile> files = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        for (Path input : inputs) {
            if (Files.isDirectory(input)) {
                for (Path p : jsonFilesUnder(input)) {
                    if (!seen.add(p.toAbsolutePath().normalize())) {
                        continue;
                    }
                    if (OWN_EXPORTS.contains(p.getFileName().toString())) {
                        continue;
                    }
                    if (p.getFileName().toString().equals("results.json")) {
                        files.add(read(p));
                    } else {
                        JsonNode root = tryParse(p);
                        if (root != null && root.isObject() && root.path("schema").asText("").startsWith(SCHEMA_FAMILY)) {
                            files.add(read(p));
                        } else {
                            ignored.add(p + " (" + (root == null ? "not valid JSON" : "no quantgate-results schema id") + ")");
                        }
                    }
                }
            } else if (Files.isRegularFile(input)) {
                if (seen.add(input.toAbsolutePath().normalize())) {
                    files.add(read(input));
                }
            } else {
                throw new IllegalArgumentException(input + ": no such file or directory");
            }
        }
        return new ResultsSet(List.copyOf(inputs), List.copyOf(files), List.copyOf(ignored));
    }

    private static List<Path> jsonFilesUnder(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().endsWith(".json"))
                    .sorted(Comparator.comparing(Path::toString))
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new IllegalArgumentException(dir + ": cannot list the directory: " + e.getMessage(), e);
        }
    }

    private static JsonNode tryParse(Path p) {
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            return null;
        }
    }

    /** Reads one results file; every problem is a {@link ResultsFormatException} naming it. */
    public static ResultsFile read(Path file) {
        JsonNode root;
        try {
            if (Files.size(file) == 0) {
                throw new ResultsFormatException(file, "empty file, not a results file (expected " + SCHEMA + ")");
            }
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ResultsFormatException(file, "not valid JSON" + where + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ResultsFormatException(file, "cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ResultsFormatException(file, "expected a JSON object with \"schema\": \"" + SCHEMA
                    + "\", found " + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase()));
        }
        Fields top = new Fields(file, "", root);
        String schema = top.string("schema");
        if (schema == null) {
            throw new ResultsFormatException(file, "no \"schema\" field: not a QuantGate results file (expected "
                    + SCHEMA + ")");
        }
        if (!schema.equals(SCHEMA)) {
            throw new ResultsFormatException(file, "schema is \"" + schema + "\"; this report reads " + SCHEMA);
        }
        if (!top.has("results")) {
            throw new ResultsFormatException(file, "no \"results\" array");
        }
        List<BenchmarkRecord> records = new ArrayList<>();
        List<Fields> rs = top.objects("results");
        for (int i = 0; i < rs.size(); i++) {
            records.add(record(file, i, rs.get(i)));
        }
        Fields machine = top.object("machine");
        return new ResultsFile(file, schema, top.string("quantgate_version"), top.string("started_at"),
                top.string("written_at"), machine == null ? "" : fingerprint(machine).describe(), List.copyOf(records));
    }

    private static BenchmarkRecord record(Path file, int index, Fields r) {
        Fields test = r.object("test");
        String testName = test == null ? null : test.string("name");
        Fields in = r.object("inputs");
        Inputs inputs = in == null ? new Inputs(null, null, null, null, null, null, null, null)
                : new Inputs(in.string("model"), in.string("model_sha256"), in.string("architecture"),
                        in.string("tokenizer"), in.string("tokenizer_sha256"), in.string("dataset"),
                        in.string("dataset_sha256"), longOrNull(in.number("dataset_tokens")));
        Fields fp = r.object("fingerprint");
        return new BenchmarkRecord(file, index, testName == null ? "?" : testName, r.requiredString("config"),
                r.string("config_format"), r.integer("config_group"), r.string("baseline_config"),
                r.requiredString("backend"), r.string("activations"), inputs, r.number("compression_ratio"),
                longOrNull(r.number("weight_bytes_per_token")), perplexity(r.object("perplexity")),
                throughput(r.object("throughput")), r.string("verdict"), fp == null ? null : fingerprint(fp),
                r.string("error"), r.string("status"), r.string("status_message"), calibration(r));
    }

    private static String calibration(Fields r) {
        Fields o = null;
        String s = null;
        if (r.has("calibration")) {
            try {
                s = r.string("calibration");
            } catch (ResultsFormatException notAString) {
                o = r.object("calibration");
            }
        }
        if (o != null) {
            s = o.string("dataset");
        }
        return s == null ? r.string("calibration_dataset") : s;
    }

    private static Long longOrNull(double v) {
        return Double.isFinite(v) ? (long) v : null;
    }

    private static PerplexityFigures perplexity(Fields p) {
        if (p == null) {
            return null;
        }
        Fields samples = p.object("samples");
        int n = samples == null ? 0 : samples.numbers("chunk_nll_quant").length;
        return new PerplexityFigures(intOr(p.integer("ctx")), p.string("mode"), intOr(p.integer("stride")),
                intOr(p.integer("chunks")), (long) orZero(p.number("scored")), (long) orZero(p.number("stream_tokens")),
                p.number("confidence_level"), p.number("ppl_base"), p.number("ppl_quant"), p.interval("delta_percent"),
                p.interval("kld_mean"), p.interval("same_top_percent"), p.number("quant_tokens_per_second"),
                intOr(p.integer("remeasures")), n);
    }

    private static ThroughputFigures throughput(Fields t) {
        if (t == null) {
            return null;
        }
        List<ThroughputRow> rows = new ArrayList<>();
        for (Fields row : t.objects("rows")) {
            Fields rate = row.object("rate");
            Fields rateCi = row.object("rate_ci");
            Fields speedup = row.object("speedup");
            Fields speedupCi = row.object("speedup_ci");
            Fields fraction = row.object("fraction_of_bandwidth");
            rows.add(new ThroughputRow(row.string("label"), row.string("level"), row.string("unit"),
                    row.integer("batch"), row.integer("tokens"), intOr(row.integer("rounds")),
                    new Interval(rate == null ? Double.NaN : rate.number("median"),
                            rateCi == null ? Double.NaN : rateCi.number("low"),
                            rateCi == null ? Double.NaN : rateCi.number("high")),
                    new Interval(speedup == null ? Double.NaN : speedup.number("median"),
                            speedupCi == null ? Double.NaN : speedupCi.number("low"),
                            speedupCi == null ? Double.NaN : speedupCi.number("high")),
                    fraction == null ? Double.NaN : fraction.number("median"), row.number("gflops"),
                    row.number("ceiling_rate")));
        }
        return new ThroughputFigures(t.string("level"), t.string("reference"), t.string("activations"),
                t.integer("warmup"), t.integer("iterations"), t.number("max_seconds"), t.number("outlier_sigma"),
                intOr(t.integer("remeasures")), List.copyOf(rows));
    }

    private static Fingerprint fingerprint(Fields f) {
        return new Fingerprint(f.string("id"), f.string("cpu"), f.integer("cores"), f.strings("simd"),
                f.string("isa"), f.integer("threads"), f.string("jvm"), f.string("os"));
    }

    private static int intOr(Integer v) {
        return v == null ? 0 : v;
    }

    private static double orZero(double v) {
        return Double.isFinite(v) ? v : 0;
    }
}
