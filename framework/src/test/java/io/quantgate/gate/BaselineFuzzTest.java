package io.quantgate.gate;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Stored baseline files under the fuzzer (see io.quantgate.fuzz.ParserFuzzTest for the contract). */
class BaselineFuzzTest {
    private static final Path FILE = file();

    private static Path file() {
        try {
            return Files.createTempDirectory("quantgate-fuzz").resolve("baseline.json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m", maxExecutions = 100_000)
    void baselineJson(byte[] data) throws IOException {
        Files.write(FILE, data);
        try {
            BaselineStore.read(FILE);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            if (e.getMessage() == null || !e.getMessage().contains(FILE.toString())) {
                throw new AssertionError("error not naming " + FILE + ": " + e, e);
            }
        }
    }
}
