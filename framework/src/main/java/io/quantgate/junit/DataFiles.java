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

    /** Why the test cannot run for lack of a file, or empty when every file it needs is there. */
    static Optional<String> missing(QuantTestSpec spec, Path dataDir) {
        QuantTestSpec.Bench b = spec.bench();
        boolean needsModelFile = !SyntheticWeights.isSpec(b.model());
        boolean kernelOnly = spec.throughput().map(t -> t.level() == Throughput.Level.KERNEL && !t.shapes().isEmpty())
                .orElse(false) && spec.perplexity().isEmpty();
        if (needsModelFile && !kernelOnly) {
            Path m = resolve(b.model(), dataDir);
            if (!Files.isRegularFile(m)) {
                return Optional.of("model file missing: " + m + " (" + b.model() + " looked up in the data directory "
                        + dataDir + " and the working directory). " + howTo(b.model()));
            }
        }
        if (spec.perplexity().isPresent()) {
            if (!b.tokenizer().isEmpty()) {
                Path t = resolve(b.tokenizer(), dataDir);
                if (!Files.isRegularFile(t)) {
                    return Optional.of("tokenizer file missing: " + t + ". " + howTo(b.tokenizer()));
                }
            }
            Path d = dataset(b.dataset(), dataDir);
            if (!Files.isRegularFile(d)) {
                return Optional.of("dataset file missing: " + d + ". " + howTo(b.dataset()));
            }
        }
        return Optional.empty();
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
