package io.quantgate.kernels.bench;

import io.quantgate.results.model.SampleStats;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.Isa;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code ./quantgate bench kernels}: option parsing (defaults, every option, every kind of bad value)
 * and one real end-to-end run at tiny settings whose JSON and Markdown outputs are checked for the
 * schema the reports rely on.
 */
class KernelBenchCommandTest {
    private static Isa originalIsa;

    @BeforeAll
    static void remember() {
        originalIsa = NativeKernels.isa();
    }

    @AfterAll
    static void restore() {
        NativeKernels.setIsa(originalIsa);
        NativeKernels.setThreads(0);
    }

    private static KernelBenchCommand.Options parse(String... args) {
        return KernelBenchCommand.parse(args);
    }

    private static List<String> shapes(KernelBenchCommand.Options o) {
        return o.shapes().stream().map(s -> s[0] + "x" + s[1]).toList();
    }

    @Test
    void defaults() {
        KernelBenchCommand.Options o = parse();
        assertThat(shapes(o)).containsExactly("4096x4096", "11008x4096", "4096x11008", "14336x4096", "4096x14336");
        assertThat(o.batches()).containsExactly(1, 16, 512);
        assertThat(o.formats()).extracting(ConfigId::toString)
                .containsExactly("fp32", "fp16", "bf16", "int8", "int4-g128", "int4s-g128", "fp4-g128", "nf4-g128");
        assertThat(o.activations()).containsExactly(ActivationMode.FP32, ActivationMode.INT8);
        assertThat(o.threads()).isZero();
        assertThat(o.isa()).isNull();
        assertThat(o.warmup()).isEqualTo(15);
        assertThat(o.iterations()).isEqualTo(100);
        assertThat(o.maxSeconds()).isEqualTo(20.0);
        assertThat(o.outlierSigma()).isEqualTo(SampleStats.DEFAULT_OUTLIER_SIGMA).isEqualTo(2.0);
        assertThat(o.json()).isFalse();
        assertThat(o.out()).isNull();
        assertThat(o.markdown()).isNull();
    }

    @Test
    void everyOption() {
        KernelBenchCommand.Options o = parse("--formats", "int4-g32, fp16,nf4", "--activations", "int8", "--shapes", "64X96,33x200",
                "--batch", "1,5", "--threads", "3", "--isa", "scalar", "--warmup", "0", "--iterations", "7", "--max-seconds", "1.5",
                "--outlier-sigma", "3", "--json", "--out", "r/out.json", "--markdown", "r/out.md");
        assertThat(o.formats()).extracting(ConfigId::toString).containsExactly("int4-g32", "fp16", "nf4-g128");
        assertThat(o.activations()).containsExactly(ActivationMode.INT8);
        assertThat(shapes(o)).containsExactly("64x96", "33x200");
        assertThat(o.batches()).containsExactly(1, 5);
        assertThat(o.threads()).isEqualTo(3);
        assertThat(o.isa()).isEqualTo(Isa.SCALAR);
        assertThat(o.warmup()).isZero();
        assertThat(o.iterations()).isEqualTo(7);
        assertThat(o.maxSeconds()).isEqualTo(1.5);
        assertThat(o.outlierSigma()).isEqualTo(3.0);
        assertThat(o.json()).isTrue();
        assertThat(o.out()).isEqualTo(Path.of("r/out.json"));
        assertThat(o.markdown()).isEqualTo(Path.of("r/out.md"));
        // later occurrences win; --json may come anywhere
        KernelBenchCommand.Options p = parse("--json", "--batch", "2", "--batch", "3", "--activations", "FP32,int8");
        assertThat(p.batches()).containsExactly(3);
        assertThat(p.json()).isTrue();
        assertThat(p.activations()).containsExactly(ActivationMode.FP32, ActivationMode.INT8);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', textBlock = """
            --shapes        | 40x        | bad shape '40x'
            --shapes        | 4096       | bad shape '4096'
            --shapes        | 4x5x6      | bad shape '4x5x6'
            --shapes        | 0x64       | shape N in '0x64' must be positive
            --shapes        | 64xabc     | shape K in '64xabc' must be an integer, got 'abc'
            --shapes        | ','        | --shapes is empty
            --batch         | 0          | --batch must be positive, got 0
            --batch         | 1,-4       | --batch must not be negative, got -4
            --batch         | one        | --batch must be an integer, got 'one'
            --formats       | fp5        | unknown format 'fp5'
            --formats       | int4-g48   | group 48 is not one of 32, 64, 128, 256
            --formats       | fp16-g32   | dense format 'fp16' takes no group
            --formats       | ' , '      | --formats is empty
            --activations   | int3       | unknown activation mode 'int3'
            --activations   | ','        | --activations is empty
            --threads       | -1         | --threads must not be negative, got -1
            --isa           | sse9       | unknown ISA 'sse9'
            --warmup        | -2         | --warmup must not be negative, got -2
            --iterations    | 0          | --iterations must be positive, got 0
            --iterations    | 2.5        | --iterations must be an integer, got '2.5'
            --max-seconds   | 0          | --max-seconds must be positive, got 0
            --max-seconds   | soon       | --max-seconds must be a number, got 'soon'
            --outlier-sigma | -1         | --outlier-sigma must be positive, got -1
            --outlier-sigma | NaN        | --outlier-sigma must be positive, got NaN
            --bogus         | 1          | unknown option --bogus
            """)
    void badValuesNameTheOptionAndValue(String option, String value, String message) {
        assertThatThrownBy(() -> parse(option, value))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void optionWithoutValue() {
        assertThatThrownBy(() -> parse("--batch", "1", "--warmup"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("option --warmup needs a value")
                .hasMessageContaining("usage: ./quantgate bench kernels");
        assertThatThrownBy(() -> parse("--verbose"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--verbose");
        assertThatThrownBy(() -> parse("--shapes", "64x64", "--frobnicate", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("unknown option --frobnicate");
    }

    /** fp16 (always the reference) + int4 and fp4, each with fp32 and int8 activations. */
    private static final int CASES_PER_GROUP = 5;

    @Test
    void smokeRunWritesJsonAndMarkdown(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sub/kernels.json");
        Path md = dir.resolve("kernels.md");
        KernelBenchCommand.Options o = parse("--shapes", "64x96,33x200", "--batch", "1,5", "--formats", "fp16,int4-g32,fp4-g64",
                "--warmup", "1", "--iterations", "3", "--max-seconds", "1", "--threads", "1", "--json",
                "--out", out.toString(), "--markdown", md.toString());
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, Object> doc;
        try (PrintStream so = new PrintStream(stdout, true, StandardCharsets.UTF_8);
             PrintStream lo = new PrintStream(log, true, StandardCharsets.UTF_8)) {
            doc = KernelBenchCommand.run(o, so, lo);
        }
        String logText = log.toString(StandardCharsets.UTF_8);
        assertThat(logText).contains("memory read bandwidth:").contains("shape 64x96").contains("shape 33x200");

        ObjectMapper mapper = new ObjectMapper();
        JsonNode root = mapper.readTree(out.toFile());
        // --json: stdout is exactly the document (progress went to the log stream)
        assertThat(mapper.readTree(stdout.toString(StandardCharsets.UTF_8))).isEqualTo(root);
        assertThat(root.get("tool").asText()).isEqualTo("quantgate bench kernels");
        assertThat(root.get("bandwidth_gbs").isNumber()).isTrue();
        assertThat(root.get("bandwidth_gbs").asDouble()).isPositive();
        assertThat(((Number) doc.get("bandwidth_gbs")).doubleValue()).isEqualTo(root.get("bandwidth_gbs").asDouble());

        JsonNode machine = root.get("machine");
        assertThat(machine.get("cpu").asText()).isNotBlank();
        assertThat(machine.get("cores").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(machine.get("isa").asText()).isIn("scalar", "avx2", "avx512");
        assertThat(machine.get("threads").asInt()).isEqualTo(1);
        assertThat(machine.get("llc_bytes").asLong()).isEqualTo(MachineInfo.lastLevelCacheBytes()).isPositive();

        JsonNode sampling = root.get("sampling");
        assertThat(sampling.get("warmup").asInt()).isEqualTo(1);
        assertThat(sampling.get("iterations").asInt()).isEqualTo(3);
        assertThat(sampling.get("outlier_sigma").asDouble()).isEqualTo(2.0);
        assertThat(sampling.get("max_seconds_per_group").asDouble()).isEqualTo(1.0);
        assertThat(sampling.get("working_set_bytes").asLong()).isEqualTo(4 * MachineInfo.lastLevelCacheBytes());
        assertThat(sampling.get("interleaved").asBoolean()).isTrue();

        JsonNode results = root.get("results");
        assertThat(results.isArray()).isTrue();
        assertThat(results.size()).isEqualTo(2 * 2 * CASES_PER_GROUP);
        Set<String> seen = new HashSet<>();
        for (JsonNode r : results) {
            String where = r.toString();
            for (String field : List.of("config", "format", "group", "n", "k", "batch", "activations", "gbs", "gflops", "bandwidth_ratio",
                    "speedup_vs_fp16", "speedup_vs_fp16_ci95", "median_ns", "samples", "dropped", "stats_ns", "weight_bytes", "copies",
                    "raw_ns")) {
                assertThat(r.has(field)).as("field %s in %s", field, where).isTrue();
            }
            String format = r.get("format").asText();
            String act = r.get("activations").asText();
            int n = r.get("n").asInt();
            int k = r.get("k").asInt();
            int batch = r.get("batch").asInt();
            assertThat(format).isIn("fp16", "int4", "fp4");
            assertThat(act).isIn("fp32", "int8");
            assertThat(n + "x" + k).isIn("64x96", "33x200");
            assertThat(batch).isIn(1, 5);
            assertThat(seen.add(r.get("config").asText() + "/" + act + "/" + n + "x" + k + "/" + batch)).as("duplicate " + where).isTrue();
            assertThat(r.get("group").asInt()).isEqualTo(switch (format) {
                case "fp16" -> 0;
                case "int4" -> 32;
                default -> 64;
            });
            assertThat(r.get("gbs").asDouble()).as(where).isPositive();
            assertThat(r.get("gflops").asDouble()).as(where).isPositive();
            assertThat(r.get("bandwidth_ratio").asDouble()).as(where).isPositive();
            assertThat(r.get("speedup_vs_fp16").asDouble()).as(where).isPositive();
            assertThat(r.get("median_ns").asDouble()).as(where).isPositive();
            int samples = r.get("samples").asInt();
            int dropped = r.get("dropped").asInt();
            assertThat(samples).as(where).isGreaterThanOrEqualTo(1);
            assertThat(dropped).isGreaterThanOrEqualTo(0);
            JsonNode raw = r.get("raw_ns");
            assertThat(raw.isArray()).isTrue();
            assertThat(raw.size()).as(where).isEqualTo(samples + dropped);
            // --iterations 3 and no budget stop below 5 rounds: exactly 3 measured rounds
            assertThat(raw.size()).as(where).isEqualTo(3);
            for (JsonNode t : raw) {
                assertThat(t.asDouble()).isPositive();
            }
            assertThat(r.get("copies").asInt()).isGreaterThanOrEqualTo(2);
            assertThat(r.get("weight_bytes").asLong() * r.get("copies").asLong())
                    .isGreaterThanOrEqualTo(4 * MachineInfo.lastLevelCacheBytes());
            assertThat(r.get("speedup_vs_fp16_ci95").size()).isEqualTo(2);
            if (format.equals("fp16")) {
                assertThat(act).isEqualTo("fp32");
                assertThat(r.get("speedup_vs_fp16").asDouble()).isEqualTo(1.0);
                assertThat(r.get("speedup_vs_fp16_paired_median").asDouble()).isEqualTo(1.0);
                assertThat(r.get("weight_bytes").asLong()).isEqualTo(2L * n * k);
            }
            if (act.equals("int8")) {
                assertThat(format).as("int8 activations only for quantized formats").isIn("int4", "fp4");
            }
        }
        // every shape x batch has the five cases
        for (String shape : List.of("64x96", "33x200")) {
            for (int b : List.of(1, 5)) {
                for (String c : List.of("fp16/fp32", "int4-g32/fp32", "int4-g32/int8", "fp4-g64/fp32", "fp4-g64/int8")) {
                    String[] p = c.split("/");
                    assertThat(seen).contains(p[0] + "/" + p[1] + "/" + shape + "/" + b);
                }
            }
        }

        List<String> lines = Files.readAllLines(md);
        assertThat(lines).contains("| config | act | N x K | batch | median µs | GB/s | of bw | GFLOP/s | vs fp16 | 95% CI | n |");
        int header = lines.indexOf("| config | act | N x K | batch | median µs | GB/s | of bw | GFLOP/s | vs fp16 | 95% CI | n |");
        assertThat(lines.get(header + 1)).startsWith("|---|");
        List<String> rows = new ArrayList<>();
        for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("| "); i++) {
            rows.add(lines.get(i));
        }
        assertThat(rows).hasSize(results.size());
        assertThat(lines.stream().filter(l -> l.startsWith("| ")).count()).isEqualTo(results.size() + 1L);
        for (int i = 0; i < rows.size(); i++) {
            JsonNode r = results.get(i);
            String[] cells = rows.get(i).split("\\|");
            assertThat(cells[1].trim()).isEqualTo(r.get("config").asText());
            assertThat(cells[2].trim()).isEqualTo(r.get("activations").asText());
            assertThat(cells[3].trim()).isEqualTo(r.get("n").asInt() + "x" + r.get("k").asInt());
            assertThat(cells[4].trim()).isEqualTo(r.get("batch").asText());
            assertThat(cells[11].trim()).isEqualTo(r.get("samples").asText());
        }
        String mdText = String.join("\n", lines);
        assertThat(mdText).contains("# QuantGate kernel benchmark").contains("Memory read bandwidth");
        // atomic writes leave no temporary files behind
        try (var files = Files.list(out.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("kernels.json");
        }
    }
}
