package io.quantgate.reports;

import io.quantgate.results.ResultsPublisher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The framework's end-of-run hook (registered in {@code META-INF/services/io.quantgate.results.ResultsPublisher}):
 * when {@code results.json} has been written, the report is generated next to it. The reference backend can be
 * chosen with {@code -Dquantgate.report.reference.backend=NAME}.
 */
public final class ReportPublisher implements ResultsPublisher {
    public static final String REFERENCE_BACKEND = "quantgate.report.reference.backend";

    /** For {@link java.util.ServiceLoader}. */
    public ReportPublisher() {
    }

    @Override
    public List<Path> publish(Path resultsFile) {
        Path file = resultsFile.toAbsolutePath().normalize();
        Path out = file.getParent();
        Path root = launcherRoot(out);
        String command = "./quantgate report generate " + ReportCommand.shellQuote(shown(root, file)) + " --out "
                + ReportCommand.shellQuote(shown(root, out));
        ResultsSet set = ResultsLoader.load(List.of(file));
        String reference = System.getProperty(REFERENCE_BACKEND);
        Report report = ReportGenerator.generate(set, new ReportOptions(out, reference, command, true, System.getenv()));
        return report.files();
    }

    /**
     * The checkout the results belong to: the nearest ancestor holding the {@code quantgate} launcher, from where the
     * regenerate command runs. Null outside a checkout (the command then names absolute paths).
     */
    private static Path launcherRoot(Path dir) {
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("quantgate")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        return null;
    }

    private static String shown(Path root, Path p) {
        return root == null ? p.toString() : root.relativize(p).toString();
    }
}
