package io.quantgate.junit;

import io.quantgate.runtime.model.SyntheticWeights;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the files a {@link QuantBench} names and, when one is missing, says exactly where it was looked
 * for and how to get it.
 */
final class DataFiles {
    /** {@link QuantBench#dataset()} name of the WikiText-2 raw test split. */
    static final String WIKITEXT_2 = "wikitext-2";
    static final String WIKITEXT_2_FILE = "wikitext-2-raw/wiki.test.raw";

    private DataFiles() {
    }

    /**
     * An absolute name as it is; a relative one under the data directory if it exists there, else under the
     * working directory if it exists there, else (missing) the data-directory candidate.
     */
    static Path resolve(String name, Path dataDir) {
        Path p = Path.of(name);
        if (p.isAbsolute()) {
            return p.normalize();
        }
        Path inData = dataDir.resolve(p).toAbsolutePath().normalize();
        if (Files.exists(inData)) {
            return inData;
        }
        Path inCwd = p.toAbsolutePath().normalize();
        return Files.exists(inCwd) ? inCwd : inData;
    }

    static Path dataset(String dataset, Path dataDir) {
        return resolve(WIKITEXT_2.equals(dataset) ? WIKITEXT_2_FILE : dataset, dataDir);
    }

    /** A file the test needs and does not find: why, and the path looked for. */
    record Missing(String reason, Path path) {
    }

    /** Why the test cannot run for lack of a file, or empty when every file it needs is there. */
    static Optional<String> missing(QuantTestSpec spec, Path dataDir) {
        return missingFile(spec, dataDir).map(Missing::reason);
    }

    /** The first file the test needs and does not find, or empty. */
    static Optional<Missing> missingFile(QuantTestSpec spec, Path dataDir) {
        QuantTestSpec.Bench b = spec.bench();
        boolean needsModelFile = !SyntheticWeights.isSpec(b.model());
        boolean kernelOnly = spec.throughput().map(t -> t.level() == Throughput.Level.KERNEL && !t.shapes().isEmpty())
                .orElse(false) && spec.perplexity().isEmpty();
        if (needsModelFile && !kernelOnly) {
            Path m = resolve(b.model(), dataDir);
            if (!Files.isRegularFile(m)) {
                return Optional.of(new Missing("model file missing: " + m + " (" + b.model() + " looked up in the data "
                        + "directory " + dataDir + " and the working directory). " + howTo(b.model()), m));
            }
        }
        if (spec.perplexity().isPresent()) {
            if (!b.tokenizer().isEmpty()) {
                Path t = resolve(b.tokenizer(), dataDir);
                if (!Files.isRegularFile(t)) {
                    return Optional.of(new Missing("tokenizer file missing: " + t + ". " + howTo(b.tokenizer()), t));
                }
            }
            Path d = dataset(b.dataset(), dataDir);
            if (!Files.isRegularFile(d)) {
                return Optional.of(new Missing("dataset file missing: " + d + ". " + howTo(b.dataset()), d));
            }
        }
        return Optional.empty();
    }

    /**
     * The existing path one small edit away from {@code missing} (a typo: a case difference or up to two edited
     * characters in the first path element that does not exist), or empty.
     */
    static Optional<Path> closeMatch(Path missing) {
        Path abs = missing.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        Path rest = abs.getFileName();
        while (dir != null && !Files.isDirectory(dir)) {
            rest = dir.getFileName().resolve(rest);
            dir = dir.getParent();
        }
        if (dir == null || rest == null) {
            return Optional.empty();
        }
        String wanted = rest.getName(0).toString();
        Path tail = rest.getNameCount() > 1 ? rest.subpath(1, rest.getNameCount()) : null;
        try (var entries = Files.list(dir)) {
            return entries.filter(e -> {
                String n = e.getFileName().toString();
                return !n.equals(wanted) && (n.equalsIgnoreCase(wanted) || editDistance(n, wanted, 2) <= 2);
            }).map(e -> tail == null ? e : e.resolve(tail)).filter(Files::exists).sorted().findFirst();
        } catch (java.io.IOException | SecurityException e) {
            return Optional.empty();
        }
    }

    /** Levenshtein distance, or {@code limit + 1} as soon as it must exceed {@code limit}. */
    static int editDistance(String a, String b, int limit) {
        if (Math.abs(a.length() - b.length()) > limit) {
            return limit + 1;
        }
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            int rowMin = cur[0];
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
                rowMin = Math.min(rowMin, cur[j]);
            }
            if (rowMin > limit) {
                return limit + 1;
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private static String howTo(String name) {
        String where = "Put it there, or point the system property / junit-platform.properties key quantgate.data.dir "
                + "(or @QuantBench(dataDir)) at the directory that holds it.";
        if (name.equals(WIKITEXT_2) || name.endsWith("wiki.test.raw")) {
            return "It is wiki.test.raw of the WikiText-2 raw release (wikitext-2-raw-v1.zip; Hugging Face dataset "
                    + "Salesforce/wikitext, config wikitext-2-raw-v1): unzip it so that " + WIKITEXT_2_FILE
                    + " lies in the data directory. " + where;
        }
        if (name.contains("stories260K") || name.endsWith("tok512.bin")) {
            return "stories260K.bin and tok512.bin are in Hugging Face karpathy/tinyllamas (stories260K/). " + where;
        }
        return where;
    }
}
