package io.quantgate.reports;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code ./quantgate report generate [RESULTS_FILE_OR_DIR ...] [--out DIR] [--reference-backend NAME] [--no-charts]}.
 *
 * <p>Inputs default to {@code target/quantgate}; the output directory defaults to the first input's directory (the
 * report lands next to its results). Bad input (a malformed results file, an unknown option) prints one line naming
 * the problem and exits with 2; an I/O failure while writing exits with 1.
 */
public final class ReportCommand {
    static final String USAGE = "usage: ./quantgate report generate [RESULTS_FILE_OR_DIR ...] [--out DIR] "
            + "[--reference-backend NAME] [--no-charts]";

    private ReportCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.getenv()));
    }

    static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        if (args.length == 0 || !args[0].equals("generate")) {
            err.println(args.length > 0 && (args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help"))
                    ? USAGE : "quantgate report: " + (args.length == 0 ? "no subcommand" : "unknown subcommand '" + args[0] + "'")
                    + "\n" + USAGE);
            return 2;
        }
        List<String> inputs = new ArrayList<>();
        String outDir = null;
        String reference = null;
        boolean charts = true;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--out", "--reference-backend" -> {
                    if (i + 1 >= args.length || args[i + 1].isBlank() || args[i + 1].startsWith("--")) {
                        err.println("quantgate report: " + a + " needs a value\n" + USAGE);
                        return 2;
                    }
                    if (a.equals("--out")) {
                        outDir = args[++i];
                    } else {
                        reference = args[++i];
                    }
                }
                case "--no-charts" -> charts = false;
                case "-h", "--help" -> {
                    out.println(USAGE);
                    return 0;
                }
                default -> {
                    if (a.startsWith("--")) {
                        err.println("quantgate report: unknown option '" + a + "'\n" + USAGE);
                        return 2;
                    }
                    inputs.add(a);
                }
            }
        }
        if (inputs.isEmpty()) {
            inputs.add("target/quantgate");
        }
        if (outDir == null) {
            Path first = Path.of(inputs.getFirst());
            Path dir = Files.isDirectory(first) ? first : first.toAbsolutePath().getParent();
            outDir = dir.toString();
        }
        String command = "./quantgate report generate " + String.join(" ", inputs.stream().map(ReportCommand::shellQuote).toList())
                + " --out " + shellQuote(outDir) + (reference == null ? "" : " --reference-backend " + shellQuote(reference))
                + (charts ? "" : " --no-charts");
        try {
            ResultsSet set = ResultsLoader.load(inputs.stream().map(Path::of).toList());
            Report report = ReportGenerator.generate(set,
                    new ReportOptions(Path.of(outDir), reference, command, charts, env));
            if (report.empty()) {
                out.println("no benchmark results yet in " + String.join(", ", inputs) + ": " + report.markdown()
                        + " says how to produce them");
            } else {
                out.println("report: " + report.markdown());
                report.files().stream().skip(1).forEach(f -> out.println("  " + f.getFileName()));
                report.charts().stream().filter(c -> !c.drawn())
                        .forEach(c -> out.println("  (" + c.file() + " not drawn: " + c.reason() + ")"));
            }
            set.ignored().forEach(s -> out.println("  ignored " + s));
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("quantgate report: " + e.getMessage());
            return 2;
        } catch (UncheckedIOException e) {
            err.println("quantgate report: " + e.getMessage());
            return 1;
        }
    }

    /** Quotes an argument for the regenerate command shown in the report when the shell would split or expand it. */
    static String shellQuote(String s) {
        return s.matches("[A-Za-z0-9_./:=@%+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
