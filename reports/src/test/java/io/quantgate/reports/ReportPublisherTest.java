package io.quantgate.reports;

import io.quantgate.junit.QuantBench;
import io.quantgate.junit.QuantConfig;
import io.quantgate.junit.QuantTest;
import io.quantgate.junit.Throughput;
import io.quantgate.results.ResultsPublisher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/** The end-of-run hook: found through ServiceLoader, and called by the framework's results listener. */
class ReportPublisherTest {
    private static final String FIXTURE = "quantgate.reports.test.fixture";

    @TempDir
    Path dir;

    @Test
    void isRegisteredAsAResultsPublisher() {
        assertThat(ServiceLoader.load(ResultsPublisher.class).stream().map(p -> p.type().getName()))
                .containsExactly(ReportPublisher.class.getName());
    }

    @Test
    void writesTheReportNextToTheResultsFile() throws Exception {
        Path results = Files.copy(Fixtures.file("backends.json"), dir.resolve("results.json"));
        List<Path> files = new ReportPublisher().publish(results);
        assertThat(files.getFirst()).isEqualTo(dir.resolve("BENCHMARKS.md").toAbsolutePath());
        assertThat(files).contains(dir.resolve("backend_comparison.png").toAbsolutePath(),
                dir.resolve("bencher.json").toAbsolutePath());
        // outside a checkout there is no ./quantgate: the command goes through Maven's classpath, absolute paths
        assertThat(Files.readString(files.getFirst()))
                .contains("> mvn -q dependency:build-classpath -Dmdep.outputFile=target/quantgate.cp "
                        + "-Dmdep.includeScope=test && java -cp \"$(cat target/quantgate.cp)\" "
                        + "io.quantgate.cli.QuantGateCli report generate " + results.toAbsolutePath() + " --out "
                        + dir.toAbsolutePath())
                .doesNotContain("./quantgate report generate");
    }

    /** Runs only inside {@link #aTestRunEndsWithItsReport}'s launcher (it measures; surefire must not run it alone). */
    static final class OnlyAsFixture implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(FIXTURE).isPresent()
                    ? ConditionEvaluationResult.enabled("fixture run") : ConditionEvaluationResult.disabled("fixture");
        }
    }

    @ExtendWith(OnlyAsFixture.class)
    @QuantBench(model = "synthetic:tiny")
    static class TinyKernel {
        @QuantTest
        @QuantConfig({"int8", "fp4-g32"})
        @Throughput(level = Throughput.Level.KERNEL, shapes = "64x64", warmup = 0, iterations = 3)
        void kernel() {
        }
    }

    private void runTinyKernel(Path resultsDir, String report) {
        LauncherDiscoveryRequestBuilder b = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(TinyKernel.class))
                .configurationParameter(FIXTURE, "true")
                .configurationParameter("quantgate.results.dir", resultsDir.toString())
                .configurationParameter("quantgate.progress", "false")
                .configurationParameter("quantgate.workingset.mb", "8");
        if (report != null) {
            b.configurationParameter("quantgate.report", report);
        }
        LauncherDiscoveryRequest request = b.build();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        // the launcher registers the framework's results listener itself (ServiceLoader), as surefire's does
        LauncherFactory.create().execute(request, summary);
        assertThat(summary.getSummary().getTestsSucceededCount()).isEqualTo(2);
    }

    @Test
    void aTestRunEndsWithItsReport() throws Exception {
        Path results = dir.resolve("on");
        runTinyKernel(results, null);
        assertThat(results.resolve("results.json")).exists();
        String md = Files.readString(results.resolve("BENCHMARKS.md"));
        assertThat(md).contains("### synthetic:tiny", "| shape | `int8` | `fp4-g32` |", "| 64x64 M=1 |");
        assertThat(Files.readAllLines(results.resolve("results.csv"))).hasSize(1 + 2);
    }

    @Test
    void quantgateReportFalseLeavesOnlyTheResults() throws Exception {
        Path results = dir.resolve("off");
        runTinyKernel(results, "false");
        try (var files = Files.list(results)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("results.json");
        }
    }
}
