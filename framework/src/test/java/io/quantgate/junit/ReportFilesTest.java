package io.quantgate.junit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.engine.reporting.FileEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The run's report files are published as a JUnit file entry when the run ends. */
class ReportFilesTest {

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class Tiny {
        @QuantTest
        @QuantConfig("fp16")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "64x64", warmup = 0, iterations = 2)
        void t(ThroughputResult r) {
            QuantAssertions.assertThat(r).hasAtLeastRounds(2);
        }
    }

    @Test
    void theResultsOfTheRunArePublishedAsADirectoryEntry(@TempDir Path dir) throws Exception {
        // EngineTestKit runs no launcher listener, so stand in for the results.json it would have written
        Files.writeString(dir.resolve("results.json"), "{\"schema\":\"quantgate-results/1\",\"results\":[]}");
        Path out = Files.createDirectories(dir.resolve("junit-output"));
        EngineExecutionResults r = org.junit.platform.testkit.engine.EngineTestKit.engine("junit-jupiter")
                .selectors(org.junit.platform.engine.discovery.DiscoverySelectors.selectClass(Tiny.class))
                .configurationParameter("quantgate.progress", "false")
                .configurationParameter(Fixture.PARAMETER, "true")
                .configurationParameter("quantgate.results.dir", dir.toString())
                .outputDirectoryCreator(new org.junit.platform.engine.OutputDirectoryCreator() {
                    @Override
                    public Path getRootDirectory() {
                        return out;
                    }

                    @Override
                    public Path createOutputDirectory(org.junit.platform.engine.TestDescriptor d) throws java.io.IOException {
                        return Files.createDirectories(out.resolve(Integer.toHexString(d.getUniqueId().hashCode())));
                    }
                })
                .execute();
        r.testEvents().assertStatistics(s -> s.succeeded(1));
        List<Event> files = r.allEvents().fileEntryPublished().list();
        assertThat(files).hasSize(1);
        FileEntry entry = files.getFirst().getPayload(FileEntry.class).orElseThrow();
        assertThat(entry.getPath().getFileName().toString()).isEqualTo("quantgate-report");
        assertThat(entry.getPath().resolve("results.json")).hasContent(Files.readString(dir.resolve("results.json")));
    }

    @Test
    void nothingIsPublishedWhenReportsAreOff(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("results.json"), "{}");
        EngineExecutionResults r = Kit.run(Tiny.class, Map.of("quantgate.results.dir", dir.toString(),
                "quantgate.report", "false"));
        assertThat(r.allEvents().fileEntryPublished().list()).isEmpty();
    }
}
