package io.quantgate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
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
                        "--reps", "2", "--work-dir", work.toString(), "--probe-mb", "16", "--out", json.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(text).containsPattern("\\| fp16 \\| external \\| fake-bigram 1.0 on GGUF F16 from fp16 \\(exact values\\) "
                + "\\| [0-9]+ ± [0-9]+ \\| [0-9.]+ ± [0-9.]+ \\| [0-9.]+x \\[");
        assertThat(text).contains("| int4-g128 | external | cannot run: fake-bigram 1.0 accepts [gguf]; GGUF has no type "
                + "that holds int4-g128 exactly");
        assertThat(text).containsPattern("\\| int4-g128 \\| native \\| QuantGate native int4-g128 \\(QuantizedMatrix "
                + "codes, the reference\\), int8 activations; QuantGate \\S+ C kernels, tier \\w+, [0-9]+ threads \\|");
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertThat(doc.get("schema").asText()).isEqualTo(io.quantgate.results.model.ResultsSchema.ID);
        List<JsonNode> records = new ArrayList<>();
        doc.get("results").forEach(records::add);
        // fp16 on both engines x (pp, tg), int4-g128 on native x (pp, tg), and the cell that cannot run
        assertThat(records).hasSize(7);
        JsonNode cannot = records.stream().filter(r -> "ABORTED".equals(r.get("status").asText())).findFirst().orElseThrow();
        assertThat(cannot.get("backend").asText()).isEqualTo("external");
        assertThat(cannot.get("ran").asText()).startsWith("cannot run: fake-bigram");
        JsonNode extTg = records.stream().filter(r -> r.get("backend").asText().equals("external")
                && r.get("throughput") != null && r.get("throughput").get("level").asText().equals("decode"))
                .findFirst().orElseThrow();
        JsonNode row = extTg.get("throughput").get("rows").get(0);
        assertThat(row.get("reference_subject").asText()).isEqualTo("fp16 (fp32 activations) on native");
        assertThat(row.get("speedup").get("median").asDouble()).isPositive();
        assertThat(extTg.get("ran").asText()).isEqualTo("fake-bigram 1.0 on GGUF F16 from fp16 (exact values)");
    }

    @Test
    void anEngineIsTimedFromThisSideNeverByWhatItReports() throws Exception {
        // the liar sleeps 50 ms per request and claims a microsecond; native decodes 4 tiny steps in about 1 ms
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String engine = "external:" + java + " -cp " + System.getProperty("java.class.path") + " "
                + FakeEngine.class.getName() + " liar";
        Path json = work.resolve("liar.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = QuantGateCli.run(new String[] {"bench", "backends", "--model", "synthetic:tiny", "--configs", "fp16",
                        "--backends", "native," + engine, "--pp", "16", "--tg", "4", "--warmup", "0", "--reps", "3",
                        "--work-dir", work.toString(), "--probe-mb", "16", "--out", json.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        for (JsonNode r : doc.get("results")) {
            if (!r.get("backend").asText().equals("external")) {
                continue;
            }
            JsonNode row = r.get("throughput").get("rows").get(0);
            // at least 50 ms per call: never more than tokens / 0.05 s, whatever the engine claims
            assertThat(row.get("rate").get("max").asDouble()).as(row.get("label").asText())
                    .isLessThanOrEqualTo(row.get("tokens").asDouble() / 0.05);
            assertThat(row.get("speedup").get("median").asDouble()).as("slower than native").isLessThan(1.0);
        }
    }

    @Test
    void anEngineThatCannotStartIsReportedAsUnavailableAndTheOthersStillRun() throws Exception {
        Path json = work.resolve("gone.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = QuantGateCli.run(new String[] {"bench", "backends", "--model", "synthetic:tiny", "--configs", "fp16",
                        "--backends", "native,external:/nonexistent/engine", "--pp", "8", "--tg", "2", "--warmup", "0",
                        "--reps", "2", "--probe-mb", "16", "--out", json.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("| fp16 | external | unavailable: backend 'external:/nonexistent/engine' is not "
                + "available here: ");
        assertThat(text).containsPattern("\\| fp16 \\| native \\| QuantGate native fp16 .* \\| \\(reference\\) \\|");
        Run noRef = cliRun("bench", "backends", "--model", "synthetic:tiny", "--configs", "fp16", "--backends", "native",
                "--reference", "llamacpp");
        assertThat(noRef.code()).isEqualTo(2);
        assertThat(noRef.err()).contains("the reference backend 'llamacpp' is not among --backends [native]");
    }

    record Run(int code, String out, String err) {
    }

    static Run cliRun(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = QuantGateCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anEngineThatDecodesOnlyFromAnEmptyCacheIsNotRunAtDepthAndTheOthersAre() {
        // corrupt-native (a test engine) does not implement decodeAfter: with --depth it is reported before any round
        Run r = cliRun("bench", "backends", "--model", "synthetic:tiny", "--configs", "fp16", "--backends",
                "native,corrupt-native", "--pp", "8", "--tg", "4", "--depth", "32", "--warmup", "0", "--reps", "2",
                "--probe-mb", "16");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("| tg4@d32 tok/s |")
                .containsPattern("\\| fp16 \\| corrupt-native \\| cannot run: --depth 32: .*decodes only from an empty "
                        + "cache here \\|")
                .containsPattern("\\| fp16 \\| native \\| QuantGate native fp16 .* \\| \\(reference\\) \\|");
        assertThat(r.err()).doesNotContain("measuring the others again"); // refused up front, not dropped mid-run
        // bench model refuses it before measuring anything
        Run single = cliRun("bench", "model", "--model", "synthetic:tiny", "--config", "fp16", "--backend",
                "corrupt-native", "--tg", "4", "--depth", "32");
        assertThat(single.code()).isEqualTo(2);
        assertThat(single.err()).contains("--depth 32: ").contains("decodes only from an empty cache here")
                .doesNotContain("pp512:");
    }

    @Test
    void anUnknownBackendIsAClearErrorListingTheAvailableOnes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = QuantGateCli.run(new String[] {"bench", "backends", "--model", "synthetic:tiny", "--configs", "fp16",
                        "--backends", "native,tinygrad"},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no backend named 'tinygrad'").contains("native, external")
                .contains("available: "); // the test classpath adds corrupt-native (EngineAgreementGateTest)
    }
}
