package io.quantgate.runtime;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Real data files under {@code quantgate.data.dir}; a test that needs a missing file is skipped, naming it. */
public final class TestData {
    private TestData() {
    }

    public static Path file(String relative) {
        String dir = System.getProperty("quantgate.data.dir");
        Assumptions.assumeTrue(dir != null && !dir.isBlank(),
                "system property quantgate.data.dir is not set; cannot find " + relative);
        Path p = Path.of(dir).resolve(relative).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isRegularFile(p), "data file missing: " + p);
        return p;
    }

    public static Path stories260K() {
        return file("llama2c-stories260K/stories260K.bin");
    }

    public static Path tok512() {
        return file("llama2c-stories260K/tok512.bin");
    }

    public static Path llama2Tokenizer() {
        return file("tokenizers/llama2-32k/tokenizer.bin");
    }

    /** Meta's Llama 2 SentencePiece model, the same vocabulary as {@link #llama2Tokenizer()}. */
    public static Path llama2SentencePieceModel() {
        return file("tokenizers/llama2-32k/tokenizer.model");
    }

    public static Path wikiTestRaw() {
        return file("wikitext-2-raw/wiki.test.raw");
    }
}
