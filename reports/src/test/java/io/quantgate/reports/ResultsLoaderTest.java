package io.quantgate.reports;

import io.quantgate.results.model.Interval;
import io.quantgate.results.model.ResultsFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultsLoaderTest {

    @TempDir
    Path dir;

    @Test
    void readsEveryRecordWithItsFigures() {
        ResultsSet set = Fixtures.load("quality.json");
        assertThat(set.files()).hasSize(1);
        ResultsFile f = set.files().getFirst();
        assertThat(f.quantgateVersion()).isEqualTo("0.1.0-test");
        assertThat(f.writtenAt()).isEqualTo("2026-11-20T10:05:00Z");
        assertThat(f.machine()).contains("Test CPU 9000", "8 cores", "avx512");
        assertThat(set.records()).hasSize(11);
        BenchmarkRecord int4 = set.records().get(4);
        assertThat(int4.config()).isEqualTo("int4-g64");
        assertThat(int4.record().configFormat()).isEqualTo("int4");
        assertThat(int4.record().configGroup()).isEqualTo(64);
        assertThat(int4.modelName()).isEqualTo("stories260K.bin");
        assertThat(int4.record().compressionRatio()).isEqualTo(3.66);
        assertThat(int4.perplexity().deltaPercent()).isEqualTo(new Interval(2.80, 2.10, 3.50, 0.95));
        assertThat(int4.perplexity().chunks()).isEqualTo(4);
        assertThat(int4.perplexity().samples().chunkNllQuant()).hasSize(4);
        assertThat(int4.record().fingerprint().id()).isEqualTo("0123456789abcdef");
        assertThat(int4.inputs().datasetTokens()).isEqualTo(809290L);
    }

    @Test
    void partialRecordsLoadWithTheirFiguresMissing() {
        ResultsSet set = Fixtures.load("quality.json");
        // the record of a measurement that did not complete: no inputs, no figures, an error
        BenchmarkRecord failed = set.records().getLast();
        assertThat(failed.record().error()).startsWith("ExtensionConfigurationException");
        assertThat(failed.perplexity()).isNull();
        assertThat(failed.throughput()).isNull();
        assertThat(failed.record().compressionRatio()).isNaN();
        assertThat(failed.record().fingerprint()).isNull();
        assertThat(failed.modelName()).isEqualTo("unknown model");
        // one chunk: the schema writes the unbounded interval as null bounds
        BenchmarkRecord oneChunk = set.records().get(7);
        assertThat(oneChunk.perplexity().deltaPercent().hasEstimate()).isTrue();
        assertThat(oneChunk.perplexity().deltaPercent().hasBounds()).isFalse();
    }

    @Test
    void directoriesAreSearchedForResultsFilesAndOtherJsonIsListedAsIgnored() throws Exception {
        Path nested = Files.createDirectories(dir.resolve("a/b"));
        Files.copy(Fixtures.file("quality.json"), nested.resolve("results.json"));
        Files.copy(Fixtures.file("backends.json"), dir.resolve("backends-run.json"));
        Files.writeString(dir.resolve("bencher.json"), "{\"x\": {}}"); // a report's own export: skipped silently
        Files.writeString(dir.resolve("baseline.json"), "{\"schema\": \"quantgate-baseline/1\"}");
        Files.writeString(dir.resolve("notes.json"), "not json at all");
        Files.writeString(dir.resolve("readme.txt"), "ignored: not .json");
        ResultsSet set = ResultsLoader.load(List.of(dir));
        assertThat(set.files()).extracting(f -> dir.relativize(f.path()).toString())
                .containsExactly("a/b/results.json", "backends-run.json");
        assertThat(set.records()).hasSize(11 + 11);
        assertThat(set.ignored()).hasSize(2);
        assertThat(set.ignored().get(0)).contains("baseline.json", "no quantgate-results schema id");
        assertThat(set.ignored().get(1)).contains("notes.json", "not valid JSON");
    }

    @Test
    void theSameFileNamedTwiceIsReadOnce() {
        Path f = Fixtures.file("backends.json");
        assertThat(ResultsLoader.load(List.of(f, f.getParent().resolve("./backends.json"))).files()).hasSize(1);
    }

    @Test
    void anEmptyResultsArrayIsAnEmptySet() throws Exception {
        Path f = write("results.json", "{\"schema\": \"quantgate-results/1\", \"results\": []}");
        ResultsSet set = ResultsLoader.load(List.of(f));
        assertThat(set.files()).hasSize(1);
        assertThat(set.isEmpty()).isTrue();
    }

    @Test
    void malformedFilesAreNamedWithWhatIsWrong() throws Exception {
        assertProblem(write("truncated.json", "{\"schema\": \"quantgate-results/1\", \"results\": [{\"config\""),
                "not valid JSON at line 1");
        assertProblem(write("empty.json", ""), "empty file");
        assertProblem(write("array.json", "[1, 2]"), "expected a JSON object");
        assertProblem(write("noschema.json", "{\"results\": []}"), "no \"schema\" field");
        assertProblem(write("v2.json", "{\"schema\": \"quantgate-results/2\", \"results\": []}"),
                "schema is \"quantgate-results/2\"; this version reads quantgate-results/1");
        assertProblem(write("noresults.json", "{\"schema\": \"quantgate-results/1\"}"), "no \"results\" array");
        assertProblem(write("noconfig.json", "{\"schema\": \"quantgate-results/1\", \"results\": [{\"backend\": \"native\"}]}"),
                "results[0].config is missing");
        assertProblem(write("badtype.json", "{\"schema\": \"quantgate-results/1\", \"results\": [{\"config\": \"int8\", "
                + "\"backend\": \"native\", \"perplexity\": {\"ppl_base\": \"abc\"}}]}"),
                "results[0].perplexity.ppl_base: at line 1, column ",
                "Cannot deserialize value of type `double` from String value");
        assertProblem(write("badrow.json", "{\"schema\": \"quantgate-results/1\", \"results\": [{\"config\": \"int8\", "
                + "\"backend\": \"native\", \"throughput\": {\"rows\": [7]}}]}"),
                "results[0].throughput.rows[0]: at line 1, column ", "`io.quantgate.results.model.ThroughputRow`",
                "from Number value (7)");
        assertProblem(write("nan.json", "{\"schema\": \"quantgate-results/1\", \"results\": [{\"config\": \"int8\", "
                + "\"backend\": \"native\", \"compression_ratio\": NaN}]}"), "not valid JSON");
    }

    @Test
    void aMalformedResultsJsonInADirectoryIsAnErrorNotSkipped() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("run"));
        Files.writeString(sub.resolve("results.json"), "{\"schema\": \"other/1\"}");
        assertThatThrownBy(() -> ResultsLoader.load(List.of(dir)))
                .isInstanceOf(ResultsFormatException.class)
                .hasMessageStartingWith(sub.resolve("results.json").toString())
                .hasMessageContaining("schema is \"other/1\"");
    }

    @Test
    void aMissingInputIsNamed() {
        Path missing = dir.resolve("nope");
        assertThatThrownBy(() -> ResultsLoader.load(List.of(missing)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(missing + ": no such file or directory");
    }

    private Path write(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    private static void assertProblem(Path file, String... what) {
        assertThatThrownBy(() -> ResultsLoader.load(List.of(file)))
                .isInstanceOf(ResultsFormatException.class)
                .hasMessageStartingWith(file + ": ")
                .hasMessageContainingAll(what);
    }
}
