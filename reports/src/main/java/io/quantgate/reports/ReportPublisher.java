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
        String command = root != null ? "./quantgate report generate " + ReportCommand.shellQuote(shown(root, file))
                + " --out " + ReportCommand.shellQuote(shown(root, out)) : javaCommand(file, out);
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

    /**
     * Outside a QuantGate checkout (a user's project has no {@code ./quantgate}): the same command through Maven's
     * classpath of the project, whose test dependencies hold the framework and this module. One line, so it can sit in
     * the report's quoted header.
     */
    static String javaCommand(Path file, Path out) {
        return "mvn -q dependency:build-classpath -Dmdep.outputFile=target/quantgate.cp -Dmdep.includeScope=test && "
                + "java -cp \"$(cat target/quantgate.cp)\" io.quantgate.cli.QuantGateCli report generate "
                + ReportCommand.shellQuote(file.toString()) + " --out " + ReportCommand.shellQuote(out.toString())
                + "   # in the project's directory";
    }

    private static String shown(Path root, Path p) {
        return root == null ? p.toString() : root.relativize(p).toString();
    }
}
