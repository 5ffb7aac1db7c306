package io.quantgate.backend.llamacpp;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the tests need installed ({@code ./quantgate setup llamacpp --headers}, which {@code ./quantgate test} runs):
 * absent, a test is skipped with the reason on a developer's machine and fails under CI (environment variable
 * {@code CI} set), as QuantGate's missing-data policy does.
 */
final class Installed {
    private Installed() {
    }

    static void require(boolean present, String reason) {
        if (present) {
            return;
        }
        String ci = System.getenv("CI");
        if (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false") && !ci.equals("0")) {
            Assertions.fail(reason + " (the environment variable CI is set: a missing engine fails a CI job)");
        }
        Assumptions.abort(reason);
    }

    /** The loaded library, or the test is skipped / failed. */
    static LlamaCppLibrary library() {
        require(LlamaCppLibrary.unavailableReason().isEmpty(), "llama.cpp is not usable: "
                + LlamaCppLibrary.unavailableReason().orElse(""));
        return LlamaCppLibrary.get();
    }

    /** The release's headers ({@code include/} beside the library directory). */
    static Path headers() {
        Path inc = LlamaCppLibrary.directory().toAbsolutePath().getParent().resolve("include");
        require(Files.isRegularFile(inc.resolve("llama.h")), "llama.h of the release is not at " + inc
                + " (./quantgate setup llamacpp --headers)");
        return inc;
    }
}
