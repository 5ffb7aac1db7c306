package io.quantgate.reports;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code ./quantgate report generate ...}: exit codes and what a person sees, never a stack trace. */
class ReportCommandTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    /** {@code quantgate report ARGS} through the whole command tree, with an empty environment. */
    private int run(String... args) {
        picocli.CommandLine root = io.quantgate.cli.QuantGateCli.commandLine();
        ((ReportCommand) root.getSubcommands().get("report").getCommand()).environment = Map.of();
        String[] all = new String[args.length + 1];
        all[0] = "report";
        System.arraycopy(args, 0, all, 1, args.length);
        return io.quantgate.cli.QuantGateCli.execute(root, all, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void generatesTheReportIntoTheOutputDirectory() throws Exception {
        Path report = dir.resolve("report");
        int rc = run("generate", Fixtures.file("quality.json").toString(), Fixtures.file("backends.json").toString(),
                "--out", report.toString(), "--reference-backend", "llamacpp");
        assertThat(rc).isZero();
        assertThat(err()).isEmpty();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("report: " + report.resolve("BENCHMARKS.md").toAbsolutePath())
                .contains("  speedup_comparison.png", "  results.csv");
        String md = Files.readString(report.resolve("BENCHMARKS.md"));
        assertThat(md).contains("Reference backend: `llamacpp`.")
                .contains("--out " + report + " --reference-backend llamacpp\n");
    }

    @Test
    void theOutputDirectoryDefaultsToTheFirstInputsDirectory() throws Exception {
        Path results = Files.copy(Fixtures.file("backends.json"), dir.resolve("results.json"));
        assertThat(run("generate", results.toString(), "--no-charts")).isZero();
        assertThat(dir.resolve("BENCHMARKS.md")).exists();
        assertThat(dir.resolve("backend_comparison.png")).doesNotExist();
        assertThat(Files.readString(dir.resolve("BENCHMARKS.md"))).contains("Charts were not requested (`--no-charts`).");
    }

    @Test
    void aMalformedFileIsOneLineNamingItAndExitCode2() throws Exception {
        Path bad = Files.writeString(dir.resolve("results.json"), "{\"schema\": \"quantgate-results/1\", \"results\": [");
        int rc = run("generate", bad.toString(), "--out", dir.resolve("r").toString());
        assertThat(rc).isEqualTo(2);
        assertThat(err()).startsWith("quantgate report generate: " + bad + ": not valid JSON at line 1")
                .doesNotContain("\tat ", "Exception");
        assertThat(dir.resolve("r")).doesNotExist();
    }

    @Test
    void emptyResultsStillWriteThePageAndSaySo() throws Exception {
        Path empty = Files.writeString(dir.resolve("results.json"), "{\"schema\": \"quantgate-results/1\", \"results\": []}");
        assertThat(run("generate", empty.toString())).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("no benchmark results yet in " + empty);
        assertThat(Files.readString(dir.resolve("BENCHMARKS.md"))).contains("## No benchmark results yet");
    }

    @Test
    void usageErrorsExitWith2() {
        assertThat(run()).isEqualTo(2);
        assertThat(err()).contains("quantgate report: no subcommand given (generate)", "see: quantgate report --help");
        err.reset();
        assertThat(run("publish")).isEqualTo(2);
        assertThat(err()).contains("unknown command or argument 'publish'");
        err.reset();
        assertThat(run("generate", "--out")).isEqualTo(2);
        assertThat(err()).contains("Missing required parameter for option '--out'");
        err.reset();
        assertThat(run("generate", "--colour")).isEqualTo(2);
        assertThat(err()).contains("unknown option '--colour'");
        err.reset();
        assertThat(run("generate", dir.resolve("missing").toString())).isEqualTo(2);
        assertThat(err()).isEqualTo("quantgate report generate: " + dir.resolve("missing")
                + ": no such file or directory\n");
        err.reset();
        assertThat(run("generate", Fixtures.file("backends.json").toString(), "--out", dir.toString(),
                "--reference-backend", "cuda")).isEqualTo(2);
        assertThat(err()).contains("reference backend 'cuda' has no tokens/s in these results");
    }

    @Test
    void shellQuotingOfTheRegenerateCommand() {
        assertThat(ReportCommand.shellQuote("target/quantgate")).isEqualTo("target/quantgate");
        assertThat(ReportCommand.shellQuote("my results/run 1")).isEqualTo("'my results/run 1'");
        assertThat(ReportCommand.shellQuote("it's")).isEqualTo("'it'\\''s'");
    }
}
