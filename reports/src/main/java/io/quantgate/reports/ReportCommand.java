package io.quantgate.reports;

import io.quantgate.cli.CliExtension;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code quantgate report generate [RESULTS_FILE_OR_DIR ...] [--out DIR] [--reference-backend NAME] [--no-charts]},
 * added to the {@code quantgate} command tree by this module ({@link Extension}).
 *
 * <p>Inputs default to {@code target/quantgate}; the output directory defaults to the first input's directory (the
 * report lands next to its results). Bad input (a malformed results file, an unknown option) prints one line naming
 * the problem and exits with 2, as does an I/O failure while writing.
 */
@Command(name = "report", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = "Reports from results files.", subcommands = ReportCommand.Generate.class)
public final class ReportCommand implements Runnable {
    @Spec
    CommandSpec spec;

    /** The environment the report sees ({@code GITHUB_STEP_SUMMARY}); tests give their own. */
    Map<String, String> environment = System.getenv();

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "no subcommand given (generate)");
    }

    /** Puts {@code report} at the top of {@code quantgate}'s commands. */
    public static final class Extension implements CliExtension {
        @Override
        public List<String> parent() {
            return List.of();
        }

        @Override
        public String name() {
            return "report";
        }

        @Override
        public Object command() {
            return new ReportCommand();
        }
    }

    @Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
            description = "BENCHMARKS.md, charts and exports from results files (docs/reports.md).")
    static final class Generate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.ParentCommand
        ReportCommand parent;

        @Parameters(paramLabel = "RESULTS_FILE_OR_DIR", arity = "0..*",
                description = "results.json files or directories searched for them (default target/quantgate)")
        List<String> inputs = new ArrayList<>();

        @Option(names = "--out", paramLabel = "DIR", description = "where the report goes (default: the first "
                + "input's directory)")
        String outDir;

        @Option(names = "--reference-backend", paramLabel = "NAME",
                description = "the backend speedups are taken against (default: native when present)")
        String reference;

        @Option(names = "--no-charts", description = "write no PNG charts")
        boolean noCharts;

        @Override
        public Integer call() {
            List<String> in = inputs.isEmpty() ? List.of("target/quantgate") : inputs;
            String out = outDir;
            if (out == null) {
                Path first = Path.of(in.getFirst());
                Path dir = Files.isDirectory(first) ? first : first.toAbsolutePath().getParent();
                out = dir.toString();
            }
            boolean charts = !noCharts;
            String command = "./quantgate report generate " + String.join(" ", in.stream().map(ReportCommand::shellQuote)
                    .toList()) + " --out " + shellQuote(out) + (reference == null ? "" : " --reference-backend "
                    + shellQuote(reference)) + (charts ? "" : " --no-charts");
            ResultsSet set = ResultsLoader.load(in.stream().map(Path::of).toList());
            Report report = ReportGenerator.generate(set, new ReportOptions(Path.of(out), reference, command, charts,
                    parent == null ? System.getenv() : parent.environment));
            PrintWriter o = spec.commandLine().getOut();
            if (report.empty()) {
                o.println("no benchmark results yet in " + String.join(", ", in) + ": " + report.markdown()
                        + " says how to produce them");
            } else {
                o.println("report: " + report.markdown());
                report.files().stream().skip(1).forEach(f -> o.println("  " + f.getFileName()));
                report.charts().stream().filter(c -> !c.drawn())
                        .forEach(c -> o.println("  (" + c.file() + " not drawn: " + c.reason() + ")"));
            }
            set.ignored().forEach(s -> o.println("  ignored " + s));
            o.flush();
            return 0;
        }
    }

    /** Quotes an argument for the regenerate command shown in the report when the shell would split or expand it. */
    static String shellQuote(String s) {
        return s.matches("[A-Za-z0-9_./:=@%+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
