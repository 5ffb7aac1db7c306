package io.quantgate.junit;

import org.junit.jupiter.api.extension.ExtensionConfigurationException;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What a test does when a data file it needs is absent ({@code quantgate.missingData}): {@code skip} (the test is
 * skipped, the reason printed), {@code fail} (the test fails with the reason), or {@code auto}, the default: fail
 * when the name is one small edit away from a file that exists (a typo must never turn a CI gate off), fail under CI
 * (environment variable {@code CI} set, as GitHub Actions, GitLab CI, Jenkins' plugins and most CI systems do) where
 * missing data means a broken job, skip otherwise (a developer's machine without the data).
 */
enum MissingDataPolicy {
    SKIP, FAIL, AUTO;

    static final String KEY = "quantgate.missingData";

    static MissingDataPolicy parse(Optional<String> value) {
        String v = value.map(String::strip).orElse("").toLowerCase(Locale.ROOT);
        return switch (v) {
            case "", "auto" -> AUTO;
            case "skip" -> SKIP;
            case "fail" -> FAIL;
            default -> throw new ExtensionConfigurationException("configuration parameter " + KEY + " = '"
                    + value.orElse("") + "' must be auto, skip or fail");
        };
    }

    /** True when the environment says this is a CI job ({@code CI} set to anything but false/0/empty). */
    static boolean underCi(Map<String, String> env) {
        String ci = env.get("CI");
        return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false") && !ci.equals("0");
    }

    /**
     * The decision for one missing file: empty to skip with {@code missing.reason()}, or the message to fail with.
     */
    Optional<String> failure(DataFiles.Missing missing, Map<String, String> env) {
        Optional<Path> typo = DataFiles.closeMatch(missing.path());
        String hint = typo.map(p -> " Did you mean " + p + "?").orElse("");
        return switch (this) {
            case SKIP -> Optional.empty();
            case FAIL -> Optional.of(missing.reason() + hint + " (" + KEY + "=fail)");
            case AUTO -> typo.isPresent()
                    ? Optional.of(missing.reason() + hint + " (a near-miss name fails rather than skipping; " + KEY
                            + "=skip to skip)")
                    : underCi(env) ? Optional.of(missing.reason() + " (the environment variable CI is set: missing data "
                            + "fails a CI job; " + KEY + "=skip to skip)") : Optional.empty();
        };
    }
}
