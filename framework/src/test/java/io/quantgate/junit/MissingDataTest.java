package io.quantgate.junit;

import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A missing data file skips the test with the exact path and how to get it (nothing is measured) — unless the policy
 * says a missing file must fail: a near-miss name (typo), a CI job, or {@code quantgate.missingData=fail}.
 */
class MissingDataTest {

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin", dataDir = "/nonexistent/quantgate-data")
    static class NoModel {
        @QuantTest
        @QuantConfig("fp16")
        @Perplexity(chunks = 1)
        void t() {
        }
    }

    @Test
    void aMissingModelSkipsWithItsPathAndWhereToGetIt() {
        String reason = skipReason(Kit.run(NoModel.class, SKIP));
        assertThat(reason).contains("model file missing: /nonexistent/quantgate-data/llama2c-stories260K/stories260K.bin",
                "karpathy/tinyllamas", "quantgate.data.dir");
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    static class NoWikiText {
        @QuantTest
        @QuantConfig("fp16")
        @Perplexity(chunks = 1)
        void t() {
        }
    }

    @Test
    void aMissingDatasetSkipsWithItsPathAndWhereToGetIt(@TempDir Path dir) throws Exception {
        // a data directory that has the model (linked, never copied) but not WikiText-2
        Files.createSymbolicLink(dir.resolve("llama2c-stories260K"), TestData.stories260K().getParent());
        String reason = skipReason(Kit.run(NoWikiText.class, Map.of("quantgate.data.dir", dir.toString(),
                MissingDataPolicy.KEY, "skip")));
        assertThat(reason).contains("dataset file missing: " + dir.toAbsolutePath().resolve("wikitext-2-raw/wiki.test.raw"),
                "wikitext-2-raw-v1.zip");
    }

    @Test
    void aDatasetThatIsNotUtf8FailsNamingTheFileAndTheOffset(@TempDir Path dir) throws Exception {
        Files.createSymbolicLink(dir.resolve("llama2c-stories260K"), TestData.stories260K().getParent());
        Path wiki = Files.createDirectories(dir.resolve("wikitext-2-raw")).resolve("wiki.test.raw");
        byte[] text = " = Valid = \n".repeat(20).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] bad = java.util.Arrays.copyOf(text, text.length + 2);
        bad[text.length] = (byte) 0xC3; // a lead byte followed by a space, not a continuation byte
        bad[text.length + 1] = ' ';
        Files.write(wiki, bad);
        EngineExecutionResults r = Kit.run(NoWikiText.class, Map.of("quantgate.data.dir", dir.toString()));
        String failures = r.allEvents().failed().stream()
                .map(e -> e.getRequiredPayload(org.junit.platform.engine.TestExecutionResult.class).getThrowable()
                        .map(Throwable::getMessage).orElse(""))
                .collect(java.util.stream.Collectors.joining("\n"));
        assertThat(failures).contains("dataset " + dir.toAbsolutePath().resolve("wikitext-2-raw/wiki.test.raw"))
                .contains("not valid UTF-8").contains("0xC3 at byte offset " + text.length).contains("must be UTF-8");
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny", dataDir = "/nonexistent/quantgate-data")
    static class SyntheticNeedsNoData {
        @QuantTest
        @QuantConfig("fp16")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "64x64", warmup = 0, iterations = 2)
        void t() {
        }
    }

    @Test
    void syntheticThroughputNeedsNoDataDirectory() {
        Kit.run(SyntheticNeedsNoData.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
    }

    static final Map<String, String> SKIP = Map.of(MissingDataPolicy.KEY, "skip");

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260k.bin")
    static class TypoInModelName {
        @QuantTest
        @QuantConfig("fp16")
        @Perplexity(chunks = 1, maxDeltaPercent = 5)
        void t() {
        }
    }

    @Test
    void aNearMissModelNameFailsNamingTheFileItProbablyMeans() {
        EngineExecutionResults r = Kit.run(TypoInModelName.class, Map.of(MissingDataPolicy.KEY, "auto"));
        assertThat(r.testEvents().started().count()).as("nothing ran").isZero();
        assertThat(r.containerEvents().skipped().count()).as("a typo never disables a gate").isZero();
        List<Event> failed = r.containerEvents().failed().list();
        assertThat(failed).hasSize(1);
        assertThat(PerplexityGateTest.throwable(failed.getFirst())).hasMessageContaining("model file missing: ")
                .hasMessageContaining("stories260k.bin")
                .hasMessageContaining("Did you mean " + TestData.stories260K().toAbsolutePath().normalize() + "?");
    }

    @Test
    void failModeFailsAndSkipModeSkipsTheSameMissingFile() {
        EngineExecutionResults fail = Kit.run(NoModel.class, Map.of(MissingDataPolicy.KEY, "fail"));
        assertThat(PerplexityGateTest.throwable(fail.containerEvents().failed().list().getFirst()))
                .hasMessageContaining("model file missing: /nonexistent/quantgate-data/").hasMessageContaining("=fail");
        assertThat(skipReason(Kit.run(NoModel.class, SKIP))).contains("model file missing");
        EngineExecutionResults bad = Kit.run(NoModel.class, Map.of(MissingDataPolicy.KEY, "sometimes"));
        assertThat(PerplexityGateTest.throwable(bad.containerEvents().failed().list().getFirst()))
                .hasMessageContaining("quantgate.missingData = 'sometimes' must be auto, skip or fail");
    }

    @Test
    void autoFailsUnderCiAndSkipsOnADevelopersMachine() {
        DataFiles.Missing m = new DataFiles.Missing("model file missing: /nonexistent/x.bin",
                Path.of("/nonexistent/x.bin"));
        assertThat(MissingDataPolicy.AUTO.failure(m, Map.of())).isEmpty();
        assertThat(MissingDataPolicy.AUTO.failure(m, Map.of("CI", "false"))).isEmpty();
        assertThat(MissingDataPolicy.AUTO.failure(m, Map.of("CI", "true"))).hasValueSatisfying(
                s -> assertThat(s).contains("model file missing: /nonexistent/x.bin", "CI is set"));
        assertThat(MissingDataPolicy.SKIP.failure(m, Map.of("CI", "true"))).isEmpty();
    }

    @Test
    void nearMissesAreOneOrTwoEditsOrACaseDifference(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("models"));
        Files.writeString(dir.resolve("models/stories260K.bin"), "x");
        assertThat(DataFiles.closeMatch(dir.resolve("models/Stories260k.bin"))).contains(dir.resolve("models/stories260K.bin"));
        assertThat(DataFiles.closeMatch(dir.resolve("modles/stories260K.bin"))).contains(dir.resolve("models/stories260K.bin"));
        assertThat(DataFiles.closeMatch(dir.resolve("models/llama-7b.bin"))).isEmpty();
        assertThat(DataFiles.editDistance("kitten", "sitting", 5)).isEqualTo(3);
    }

    static String skipReason(EngineExecutionResults r) {
        assertThat(r.testEvents().started().count()).as("nothing ran").isZero();
        List<Event> skipped = r.containerEvents().skipped().list();
        assertThat(skipped).hasSize(1);
        return skipped.get(0).getPayload(String.class).orElseThrow();
    }
}
