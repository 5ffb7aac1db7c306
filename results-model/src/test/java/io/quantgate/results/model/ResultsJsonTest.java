package io.quantgate.results.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The binding of results.json: names, non-finite numbers, unknown fields, and errors that say where. */
class ResultsJsonTest {
    @TempDir
    Path dir;

    static ResultRecord record(double ratio) {
        SampleStats s = SampleStats.of(new double[] {1, 2, 3});
        ThroughputRow row = new ThroughputRow("tg8", "decode", "int4-g128 on native", "fp16 on native", null, null, null,
                8, "tokens/s", 1e6, 1, 3, false, 0.95, s, new Range(1, 3), s, s, new Range(Double.NaN, 2), s, s,
                Double.NaN, 12.5, new ThroughputRow.RowSamples(new double[] {1, 2, 3}, new double[] {1, 2, 3},
                        new double[] {1, Double.NaN, 3}, new double[] {1, 2, 3}, new double[] {1, 2, 3},
                        new double[] {1, 1, 1}));
        ThroughputRecord t = new ThroughputRecord("decode", "int4-g128", "fp16", "int8", 1, 3, 60, 2, 0, List.of(row));
        return new ResultRecord(TestInfo.command("bench model", "int4-g128 decode"), "int4-g128", "int4", 128, null,
                "native", null, "QuantGate native int4-g128", "int8", Inputs.NONE, ratio, 123L, null, t, List.of(),
                null, null, "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", null, "SUCCESSFUL", null, null, null);
    }

    @Test
    void roundTripKeepsEveryFigureAndWritesNonFiniteAsNull() {
        ResultsDocument doc = ResultsDocument.of("0.1", "quantgate bench model", "a", "b",
                new Machine("cpu", 2, List.of("avx2"), 1L << 25, "avx512", 2, "jvm", "os"),
                List.of(record(Double.POSITIVE_INFINITY)));
        String json = ResultsJson.toJson(doc);
        assertThat(json).contains("\"schema\" : \"" + ResultsSchema.ID + "\"")
                .contains("\"compression_ratio\" : null").contains("\"gflops\" : null")
                .contains("\"reference_subject\" : \"fp16 on native\"").contains("\"class\" : null")
                .doesNotContain("NaN").doesNotContain("Infinity");
        Path f = ResultsJson.write(dir.resolve("results.json"), doc);
        ResultsDocument back = ResultsJson.read(f);
        ResultRecord r = back.results().getFirst();
        assertThat(r.compressionRatio()).isNaN();
        ThroughputRow row = r.throughput().rows().getFirst();
        assertThat(row.gflops()).isNaN();
        assertThat(row.ceilingRate()).isEqualTo(12.5);
        assertThat(row.speedupCi().low()).isNaN();
        assertThat(row.speedupCi().high()).isEqualTo(2.0);
        assertThat(row.samples().probeGbs()).hasSize(3);
        assertThat(row.samples().probeGbs()[1]).isNaN();
        assertThat(row.tokens()).isEqualTo(8);
        assertThat(row.n()).isNull();
        assertThat(back.machine().llcBytes()).isEqualTo(1L << 25);
        assertThat(back).usingRecursiveComparison().ignoringFields("results").isEqualTo(doc);
    }

    @Test
    void absentNumbersReadAsNotMeasuredAndUnknownFieldsAreIgnored() throws IOException {
        Path f = dir.resolve("r.json");
        Files.writeString(f, "{\"schema\":\"" + ResultsSchema.ID + "\",\"future_field\":{\"x\":1},"
                + "\"results\":[{\"config\":\"fp16\",\"backend\":\"native\",\"new_thing\":[1,2]}]}");
        ResultRecord r = ResultsJson.read(f).results().getFirst();
        assertThat(r.compressionRatio()).isNaN();
        assertThat(r.gates()).isEmpty();
        assertThat(r.testName()).isEqualTo("?");
    }

    @Test
    void aFieldOfTheWrongTypeNamesTheFileAndThePath() throws IOException {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"schema\":\"" + ResultsSchema.ID + "\",\"results\":[{\"config\":\"fp16\","
                + "\"backend\":\"native\",\"perplexity\":{\"ppl_base\":\"abc\"}}]}");
        assertThatThrownBy(() -> ResultsJson.read(f)).isInstanceOf(ResultsFormatException.class)
                .hasMessageStartingWith(f.toString()).hasMessageContaining("results[0].perplexity.ppl_base");
    }

    /** Figures no measurement produces (the mutation run's ppl 0, -1 and 1e999) are errors, never printed. */
    @Test
    void impossibleFiguresAreErrorsNamingTheField() throws IOException {
        Path f = dir.resolve("impossible.json");
        String head = "{\"schema\":\"" + ResultsSchema.ID + "\",\"results\":[{\"config\":\"fp16\","
                + "\"backend\":\"native\",\"perplexity\":";
        Files.writeString(f, head + "{\"ppl_base\":10,\"ppl_quant\":0}}]}");
        assertThatThrownBy(() -> ResultsJson.read(f)).isInstanceOf(ResultsFormatException.class)
                .hasMessageContaining("results[0].perplexity.ppl_quant = 0.0 cannot be measured");
        Files.writeString(f, head + "{\"ppl_base\":-1}}]}");
        assertThatThrownBy(() -> ResultsJson.read(f)).hasMessageContaining("results[0].perplexity.ppl_base = -1.0");
        Files.writeString(f, head + "{\"ppl_base\":1e999}}]}");
        assertThatThrownBy(() -> ResultsJson.read(f)).isInstanceOf(ResultsFormatException.class)
                .hasMessageContaining("results[0].perplexity.ppl_base").hasMessageContaining("1e999")
                .hasMessageContaining("beyond the range of a double");
        Files.writeString(f, head + "{\"kld_mean\":{\"estimate\":-0.5}}}]}");
        assertThatThrownBy(() -> ResultsJson.read(f)).hasMessageContaining("kld_mean.estimate = -0.5");
        Files.writeString(f, head + "{\"same_top_percent\":{\"estimate\":140}}}]}");
        assertThatThrownBy(() -> ResultsJson.read(f)).hasMessageContaining("same_top_percent.estimate = 140.0");
        Files.writeString(f, head + "{\"ppl_base\":null,\"ppl_quant\":1.0}}]}");
        assertThat(ResultsJson.read(f).results().getFirst().perplexity().pplBase()).as("null: not measured").isNaN();
    }

    @Test
    void otherSchemasMissingFieldsAndNonJsonAreClearErrors() throws IOException {
        Path other = dir.resolve("other.json");
        Files.writeString(other, "{\"schema\":\"quantgate-results/9\",\"results\":[]}");
        assertThatThrownBy(() -> ResultsJson.read(other)).hasMessageContaining("quantgate-results/9")
                .hasMessageContaining(ResultsSchema.ID);
        Path noConfig = dir.resolve("noconfig.json");
        Files.writeString(noConfig, "{\"schema\":\"" + ResultsSchema.ID + "\",\"results\":[{\"backend\":\"native\"}]}");
        assertThatThrownBy(() -> ResultsJson.read(noConfig)).hasMessageContaining("results[0].config is missing");
        Path text = dir.resolve("text.json");
        Files.writeString(text, "{\"schema\": oops");
        assertThatThrownBy(() -> ResultsJson.read(text)).isInstanceOf(ResultsFormatException.class)
                .hasMessageContaining("not valid JSON at line 1");
        Path empty = dir.resolve("empty.json");
        Files.writeString(empty, "");
        assertThatThrownBy(() -> ResultsJson.read(empty)).hasMessageContaining("empty file");
        Path nul = dir.resolve("null.json");
        Files.writeString(nul, "null");
        assertThatThrownBy(() -> ResultsJson.read(nul)).hasMessageContaining("holds JSON null");
    }

    @Test
    void theHeaderIsCheckedBeforeAnyRecordIsBound() throws IOException {
        // another schema's records may mean something else: the schema is what is wrong, not a field's type
        Path v2 = dir.resolve("v2.json");
        Files.writeString(v2, "{\"schema\":\"quantgate-results/2\",\"results\":[{\"config\":{\"id\":\"fp16\"}}]}");
        assertThatThrownBy(() -> ResultsJson.read(v2)).isInstanceOf(ResultsFormatException.class)
                .hasMessage(v2 + ": schema is \"quantgate-results/2\"; this version reads " + ResultsSchema.ID);
        Path noResults = dir.resolve("noresults.json");
        Files.writeString(noResults, "{\"schema\":\"" + ResultsSchema.ID + "\"}");
        assertThatThrownBy(() -> ResultsJson.read(noResults)).isInstanceOf(ResultsFormatException.class)
                .hasMessage(noResults + ": no \"results\" array");
        Path array = dir.resolve("array.json");
        Files.writeString(array, "[1, 2]");
        assertThatThrownBy(() -> ResultsJson.read(array)).isInstanceOf(ResultsFormatException.class)
                .hasMessage(array + ": expected a JSON object with \"schema\": \"" + ResultsSchema.ID + "\", found array");
    }

    @Test
    void brokenJsonInsideARecordIsNotValidJsonRatherThanABadField() throws IOException {
        Path truncated = dir.resolve("truncated.json");
        Files.writeString(truncated, "{\"schema\":\"" + ResultsSchema.ID + "\",\"results\":[{\"config\"");
        assertThatThrownBy(() -> ResultsJson.read(truncated)).isInstanceOf(ResultsFormatException.class)
                .hasMessageStartingWith(truncated + ": not valid JSON at line 1, column ");
        Path nan = dir.resolve("nan.json");
        Files.writeString(nan, "{\"schema\":\"" + ResultsSchema.ID + "\",\"results\":[{\"config\":\"int8\","
                + "\"backend\":\"native\",\"compression_ratio\":NaN}]}");
        assertThatThrownBy(() -> ResultsJson.read(nan)).isInstanceOf(ResultsFormatException.class)
                .hasMessageStartingWith(nan + ": not valid JSON at line 1, column ").hasMessageContaining("NaN");
        // the same for any file read with this binding
        assertThatThrownBy(() -> ResultsJson.readValue(truncated, ResultsDocument.class, "a document"))
                .isInstanceOf(ResultsFormatException.class)
                .hasMessageStartingWith(truncated + ": not valid JSON at line 1, column ");
    }

    @Test
    void hostileInputIsAnErrorNotACrash() throws IOException {
        Path deep = dir.resolve("deep.json");
        Files.writeString(deep, "[".repeat(5000) + "]".repeat(5000));
        assertThatThrownBy(() -> ResultsJson.read(deep)).isInstanceOf(ResultsFormatException.class)
                .hasMessageContaining(deep.toString());
        Path longString = dir.resolve("long.json");
        Files.writeString(longString, "{\"schema\":\"" + "x".repeat(3 << 20) + "\"}");
        assertThatThrownBy(() -> ResultsJson.read(longString)).isInstanceOf(ResultsFormatException.class);
        Path latin = dir.resolve("latin.json");
        Files.write(latin, new byte[] {'{', '"', 's', '"', ':', '"', (byte) 0xff, (byte) 0xfe, '"', '}'});
        assertThatThrownBy(() -> ResultsJson.read(latin)).isInstanceOf(ResultsFormatException.class)
                .hasMessageContaining(latin.toString());
    }

    @Test
    void atomicWritesLeaveReadableFilesAndCleanUpAfterDeadWriters() throws IOException {
        Path target = dir.resolve("out.txt");
        // a temporary file of a writer that was killed (pid that cannot be alive) and one of this process
        Path stale = dir.resolve(".out.txt." + Long.MAX_VALUE + "-1" + AtomicFiles.TEMP_SUFFIX);
        Path live = dir.resolve(".out.txt." + ProcessHandle.current().pid() + "-2" + AtomicFiles.TEMP_SUFFIX);
        // a killed writer of another file in the same directory (a quantized model under an earlier name)
        Path otherStale = dir.resolve(".model.v1.gguf." + Long.MAX_VALUE + "-7" + AtomicFiles.TEMP_SUFFIX);
        Files.writeString(stale, "half");
        Files.writeString(live, "half");
        Files.writeString(otherStale, "half");
        AtomicFiles.writeString(target, "whole");
        assertThat(Files.readString(target, StandardCharsets.UTF_8)).isEqualTo("whole");
        assertThat(stale).doesNotExist();
        assertThat(otherStale).doesNotExist();
        assertThat(live).exists();
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(target)))
                .isEqualTo("rw-r--r--");
        Path blocked = dir.resolve("file-not-dir");
        Files.writeString(blocked, "x");
        assertThatThrownBy(() -> AtomicFiles.writeString(blocked.resolve("x.json"), "y"))
                .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining(blocked.resolve("x.json").toString());
    }
}
