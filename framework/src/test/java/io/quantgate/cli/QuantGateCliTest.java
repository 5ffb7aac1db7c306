package io.quantgate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The command-line tools end to end on the real stories260K and wiki.test.raw, and on synthetic weights. */
class QuantGateCliTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return JSON.readTree(out);
        }
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = QuantGateCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void perplexityPrintsTheSpecFieldsAndComparesWithABaseline() throws Exception {
        String model = TestData.stories260K().toString(), text = TestData.wikiTestRaw().toString();
        Run single = cli("perplexity", "--model", model, "--text", text, "--chunks", "3", "--json", "--quiet");
        assertThat(single.code()).as(single.err()).isZero();
        JsonNode j = single.json();
        assertThat(j.get("tokens").asInt()).isEqualTo(809_290); // the whole file, BOS first
        assertThat(j.get("chunks").asInt()).isEqualTo(3);
        assertThat(j.get("scored").asInt()).isEqualTo(3 * 255);
        assertThat(j.get("ppl").asDouble()).isGreaterThan(1);
        assertThat(j.get("ppl_se").asDouble()).isPositive();
        assertThat(j.get("tokens_per_second").asDouble()).isPositive();

        Run cmp = cli("perplexity", "--model", model, "--text", text, "--chunks", "3", "--config", "int4-g64",
                "--baseline", "fp32", "--json", "--quiet");
        assertThat(cmp.code()).as(cmp.err()).isZero();
        JsonNode c = cmp.json();
        assertThat(c.get("ppl_base").asDouble()).isEqualTo(j.get("ppl").asDouble());
        assertThat(c.get("delta").asDouble()).isCloseTo(c.get("ppl").asDouble() - c.get("ppl_base").asDouble(),
                org.assertj.core.data.Offset.offset(1e-9));
        assertThat(c.get("ratio").asDouble()).isCloseTo(c.get("ppl").asDouble() / c.get("ppl_base").asDouble(),
                org.assertj.core.data.Offset.offset(1e-9));
        assertThat(c.get("kld").asDouble()).isPositive();
        assertThat(c.get("same_top").asDouble()).isBetween(50.0, 100.0);
        // llama-perplexity --kl-divergence's statistics, ordered as percentiles must be
        JsonNode d = c.get("kld_distribution");
        assertThat(d.get("max").asDouble()).isGreaterThanOrEqualTo(d.get("p99_9").asDouble());
        assertThat(d.get("p99").asDouble()).isGreaterThanOrEqualTo(d.get("median").asDouble());
        assertThat(d.get("median").asDouble()).isGreaterThanOrEqualTo(d.get("p0_1").asDouble());
        assertThat(d.get("min").asDouble()).isGreaterThanOrEqualTo(0);
        assertThat(d.get("rms_delta_p").asDouble()).isPositive();
    }

    @Test
    void generateReproducesTheDocumentedStory() {
        Run r = cli("generate", "--model", TestData.stories260K().toString(), "--prompt", "", "-n", "40");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("Once upon a time, there was a little girl named Lily. She loved to play outside");
    }

    @Test
    void quantizedSafetensorsGiveTheSamePerplexityAsTheModelQuantizedOnLoad(@TempDir Path dir) throws Exception {
        String model = TestData.stories260K().toString(), text = TestData.wikiTestRaw().toString();
        Path out = dir.resolve("fp4");
        Run q = cli("quantize", "--model", model, "--config", "fp4-g32", "--out", out.toString());
        assertThat(q.code()).as(q.err()).isZero();
        assertThat(out.resolve("config.json")).exists();
        Run direct = cli("perplexity", "--model", model, "--config", "fp4-g32", "--text", text, "--chunks", "2",
                "--json", "--quiet");
        Run fromFile = cli("perplexity", "--model", out.toString(), "--tokenizer", TestData.tok512().toString(),
                "--text", text, "--chunks", "2", "--json", "--quiet");
        assertThat(fromFile.code()).as(fromFile.err()).isZero();
        // fp4 values dequantize exactly to fp32, so the file holds precisely the weights the model ran
        assertThat(fromFile.json().get("ppl").asDouble()).isEqualTo(direct.json().get("ppl").asDouble());
    }

    @Test
    void quantizedGgufKeepsQuantGatesOwnCodesAsQ8_0AndQ4_0(@TempDir Path dir) throws Exception {
        String model = TestData.stories260K().toString(), text = TestData.wikiTestRaw().toString();
        for (String config : new String[] {"int8-g32", "int4s-g32", "nf4-g64"}) {
            Path out = dir.resolve(config + ".gguf");
            Run q = cli("quantize", "--model", model, "--config", config, "--out", out.toString());
            assertThat(q.code()).as(q.err()).isZero();
            // w2 has K = 172, not a multiple of 32: ggml blocks cannot be short, so it is stored as F32 values
            assertThat(q.err()).contains(switch (config) {
                case "int8-g32" -> "Q8_0=31";
                case "int4s-g32" -> "Q4_0=31";
                default -> "F32=37"; // 36 linears (lm_head untied) + the embedding
            });
            Run direct = cli("perplexity", "--model", model, "--config", config, "--text", text, "--chunks", "2",
                    "--json", "--quiet");
            // no --tokenizer: the file carries tok512's vocabulary, which must tokenize the text identically
            Run fromFile = cli("perplexity", "--model", out.toString(), "--text", text, "--chunks", "2", "--json",
                    "--quiet");
            assertThat(fromFile.code()).as(fromFile.err()).isZero();
            assertThat(fromFile.json().get("tokens").asInt()).isEqualTo(direct.json().get("tokens").asInt());
            assertThat(fromFile.json().get("ppl").asDouble()).as(config)
                    .isEqualTo(direct.json().get("ppl").asDouble());
        }
    }

    @Test
    void benchModelReportsPpTgAndTheBandwidthCeiling(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("bench.json");
        Run r = cli("bench", "model", "--model", "synthetic:tiny", "--config", "fp16,fp4-g128", "--pp", "32", "--tg",
                "8", "--warmup", "0", "--reps", "2", "--probe-mb", "16", "--json", "--out", json.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode doc = JSON.readTree(Files.readString(json));
        assertThat(doc.get("schema").asText()).isEqualTo(io.quantgate.results.model.ResultsSchema.ID);
        // one record per config x workload, in the schema JUnit writes
        JsonNode results = doc.get("results");
        assertThat(results).hasSize(4);
        JsonNode fp16pp = results.get(0), fp16tg = results.get(1), fp4pp = results.get(2), fp4tg = results.get(3);
        assertThat(fp16pp.get("config").asText()).isEqualTo("fp16");
        assertThat(fp16pp.get("throughput").get("level").asText()).isEqualTo("prefill");
        assertThat(fp16tg.get("throughput").get("level").asText()).isEqualTo("decode");
        assertThat(fp4tg.get("config").asText()).isEqualTo("fp4-g128");
        JsonNode pp = fp16pp.get("throughput").get("rows").get(0);
        JsonNode tg = fp16tg.get("throughput").get("rows").get(0);
        assertThat(pp.get("label").asText()).isEqualTo("pp32");
        assertThat(pp.get("samples").get("rates")).hasSize(2);
        assertThat(tg.get("label").asText()).isEqualTo("tg8");
        assertThat(tg.get("rate").get("median").asDouble()).isPositive();
        assertThat(tg.get("probe_gbs").get("median").asDouble()).isPositive();
        assertThat(tg.get("ceiling_rate").asDouble()).isPositive();
        assertThat(tg.get("fraction_of_bandwidth").get("median").asDouble()).isPositive();
        // compression is computed from the packed sizes: fp16 is 1 by definition, 4-bit g128 ≈ 16/4.125
        assertThat(fp16pp.get("compression_ratio").asDouble()).isEqualTo(1.0);
        assertThat(fp4pp.get("compression_ratio").asDouble()).isBetween(3.5, 4.0);
        assertThat(fp4pp.get("weight_bytes_per_token").asLong())
                .isLessThan(fp16pp.get("weight_bytes_per_token").asLong() / 3);
        // the table for people (stderr with --json)
        assertThat(r.err()).contains("| config | compression | weight MB/token | pp32 tok/s | tg8 tok/s |")
                .contains("| fp16 | 1.00 |");
        // --json: stdout is exactly the document
        assertThat(JSON.readTree(r.out())).isEqualTo(doc);
    }

    @Test
    void benchModelDecodesAtADepthAndCountsTheCacheInTheCeiling(@TempDir Path dir) throws Exception {
        Path shallow = dir.resolve("d0.json"), deep = dir.resolve("d400.json");
        for (Path json : List.of(shallow, deep)) {
            Run r = cli("bench", "model", "--model", "synthetic:tiny", "--config", "int8-g32", "--pp", "8", "--tg", "8",
                    "--depth", json == deep ? "400" : "0", "--warmup", "0", "--reps", "2", "--probe-mb", "16", "--json",
                    "--out", json.toString());
            assertThat(r.code()).as(r.err()).isZero();
            if (json == deep) {
                assertThat(r.err()).contains("| tg8@d400 tok/s |");
            }
        }
        JsonNode tg0 = JSON.readTree(Files.readString(shallow)).get("results").get(1).get("throughput").get("rows").get(0);
        JsonNode tg400 = JSON.readTree(Files.readString(deep)).get("results").get(1).get("throughput").get("rows").get(0);
        assertThat(tg0.get("label").asText()).isEqualTo("tg8");
        assertThat(tg400.get("label").asText()).isEqualTo("tg8@d400");
        // a step at positions 400..407 reads 400 more positions of the cache than one at 0..7: the bytes a token (and so
        // the ceiling) say so, by the tiny model's KV bytes a position (2 layers x 2 x 128 floats)
        double perToken0 = tg0.get("bytes_per_call").asDouble() / 8, perToken400 = tg400.get("bytes_per_call").asDouble() / 8;
        assertThat(perToken400 - perToken0).isCloseTo(400.0 * 2 * 2 * 128 * 4, org.assertj.core.data.Offset.offset(1.0));
        Run tooDeep = cli("bench", "model", "--model", "synthetic:tiny", "--config", "int8-g32", "--tg", "8", "--depth",
                "510");
        assertThat(tooDeep.code()).isEqualTo(2);
        assertThat(tooDeep.err()).contains("depth 510 + tg 8 exceed the context of 512");
    }

    @Test
    void benchModelBreakdownSplitsATokenByWhatRan() {
        Run r = cli("bench", "model", "--model", "synthetic:tiny", "--config", "int4s-g32", "--pp", "8", "--tg", "8",
                "--warmup", "0", "--reps", "2", "--probe-mb", "16", "--breakdown");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("tg8 traced once").contains("| what | calls/token | µs/token | share |")
                .contains("| attention | ").contains("| between native calls (the engine's own code) |")
                .containsPattern("\\| GEMV \\d+x\\d+ \\| \\d+ \\| ");
    }

    @Test
    void badInputEndsWithOneClearLine(@TempDir Path dir) {
        Run unknownOption = cli("perplexity", "--modle", "x");
        assertThat(unknownOption.code()).isEqualTo(2);
        assertThat(unknownOption.err()).contains("unknown option '--modle'");
        Run badConfig = cli("perplexity", "--model", "synthetic:tiny", "--text", "x", "--config", "fp5-g32");
        assertThat(badConfig.code()).isEqualTo(2);
        assertThat(badConfig.err()).contains("fp5");
        Run missing = cli("generate", "--model", dir.resolve("nope.bin").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("nope.bin").contains("does not exist");
        Run badSpec = cli("bench", "model", "--model", "synthetic:dim=64,layers=x", "--config", "fp16");
        assertThat(badSpec.code()).isEqualTo(2);
        assertThat(badSpec.err()).contains("layers=x");
        assertThat(cli("frobnicate").code()).isEqualTo(2);
        // '@' is not an argument file (picocli's @-files are off): once an InitializationException escaped here
        Run at = cli("perplexity", "@.");
        assertThat(at.code()).isEqualTo(2);
        assertThat(at.err()).startsWith("quantgate perplexity: unknown command or argument '@.'")
                .doesNotContain("Exception");
        Run atModel = cli("generate", "--model", dir.resolve("@model.bin").toString());
        assertThat(atModel.err()).contains("@model.bin").contains("does not exist");
    }

    /** Invalid UTF-8 in --text: the file, the byte offset and the rule, not "Input length = 1". */
    @Test
    void invalidUtf8TextNamesTheFileAndTheOffset(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("latin1.txt");
        java.nio.file.Files.write(text, new byte[] {'c', 'a', 'f', (byte) 0xE9, ' ', 'x'}); // "café" in Latin-1
        Run r = cli("perplexity", "--model", TestData.stories260K().toString(), "--text", text.toString(),
                "--chunks", "1", "--quiet");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains(text.toString()).contains("not valid UTF-8")
                .contains("0xE9 at byte offset 3").contains("must be UTF-8").doesNotContain("Input length");
    }
}
