package io.quantgate.reports;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantgate.results.model.ResultsFormatException;
import io.quantgate.results.model.ResultsJson;
import io.quantgate.results.model.ResultsSchema;

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
 * <p>Every results file is read with {@link ResultsJson#read}: a file that should be results and cannot be read (not
 * JSON, another schema, a field of the wrong type) is a {@link ResultsFormatException} naming the file and what is
 * wrong, and where: a report that silently left out a file would show a wrong picture. Unknown fields are ignored,
 * as the schema asks of consumers.
 */
public final class ResultsLoader {
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
                        String notResults = whyNotResults(p);
                        if (notResults == null) {
                            files.add(read(p));
                        } else {
                            ignored.add(p + " (" + notResults + ")");
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

    /**
     * Whether a JSON file found while scanning a directory is a results file: null when its top-level
     * {@code schema} is of the results family (it is then read, and must be valid), otherwise why it is not read.
     */
    private static String whyNotResults(Path p) {
        JsonNode root;
        try {
            root = ResultsJson.mapper().readTree(p.toFile());
        } catch (IOException e) {
            return "not valid JSON";
        }
        boolean results = root != null && root.isObject()
                && root.path("schema").asText("").startsWith(ResultsSchema.FAMILY);
        return results ? null : "no quantgate-results schema id";
    }

    /** Reads one results file; every problem is a {@link ResultsFormatException} naming it. */
    public static ResultsFile read(Path file) {
        return new ResultsFile(file, ResultsJson.read(file));
    }
}
