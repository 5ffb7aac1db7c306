package io.quantgate.cli;

import io.quantgate.backend.external.FakeEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code quantgate bench backends} end to end: native against the external test double on synthetic:tiny. */
class BackendBenchCommandTest {
    @TempDir
    Path work;

    @Test
    void everyCellSaysWhatRanOrWhyItCannotAndTheJsonCarriesTheRows() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String engine = "external:" + java + " -cp " + System.getProperty("java.class.path") + " "
                + FakeEngine.class.getName() + " bigram";
        Path json = work.resolve("out.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = QuantGateCli.run(new String[] {"bench", "backends", "--model", "synthetic:tiny", "--configs",
                        "fp16,int4-g128", "--backends", "native," + engine, "--pp", "16", "--tg", "4", "--warmup", "0",
                        "--reps", "2", "--work-dir", work.toString(), "--out", json.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(text).contains("| fp16 | external | fake-bigram 1.0 on GGUF F16 from fp16 (exact values) | 1000 ± 0 |"
                + " 500 ± 0 |"); // the engine reports 1 ms per prompt token and 2 ms per decode step
        assertThat(text).contains("| int4-g128 | external | cannot run: fake-bigram 1.0 accepts [gguf]; GGUF has no type "
                + "that holds int4-g128 exactly");
        assertThat(text).contains("| int4-g128 | native | QuantGate native int4-g128 (QuantizedMatrix codes, the reference), "
                + "int8 activations |");
        String doc = Files.readString(json);
        assertThat(doc).contains("\"reference\" : \"native\"").contains("\"ran\" : \"cannot run: fake-bigram");
    }

    @Test
    void anUnknownBackendIsAClearErrorListingTheAvailableOnes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = QuantGateCli.run(new String[] {"bench", "backends", "--model", "synthetic:tiny", "--configs", "fp16",
                        "--backends", "native,tinygrad"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no backend named 'tinygrad'").contains("available: native, external");
    }
}
