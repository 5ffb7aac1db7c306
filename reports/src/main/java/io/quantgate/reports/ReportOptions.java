package io.quantgate.reports;

import java.nio.file.Path;
import java.util.Map;

/**
 * How to generate a report.
 *
 * @param outDir           where BENCHMARKS.md, the charts and the exports go
 * @param referenceBackend backend speedups are taken against; null for the default ({@code native}, else the first
 *                         backend by name)
 * @param command          the command that regenerates this report, shown in its header
 * @param charts           whether to render the PNG charts
 * @param environment      environment variables ({@code GITHUB_STEP_SUMMARY}); a parameter so tests need not set them
 */
public record ReportOptions(Path outDir, String referenceBackend, String command, boolean charts,
                            Map<String, String> environment) {

    public static ReportOptions defaults(Path outDir, String command) {
        return new ReportOptions(outDir, null, command, true, System.getenv());
    }
}
