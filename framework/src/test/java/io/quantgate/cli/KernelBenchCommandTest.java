package io.quantgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantgate.harness.MemorySizing;
import io.quantgate.harness.MachineInfo;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.Isa;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import io.quantgate.results.model.ResultsSchema;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** {@code quantgate bench kernels}: its options (typed, with defaults), its errors, and a small real run. */
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

    record Run(int code, String out, String err) {
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = QuantGateCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The command object as picocli filled it from {@code args} (nothing runs). */
    private static KernelBenchCommand parse(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "bench";
        all[1] = "kernels";
        System.arraycopy(args, 0, all, 2, args.length);
        CommandLine.ParseResult r = QuantGateCli.commandLine().parseArgs(all);
        return (KernelBenchCommand) r.subcommand().subcommand().commandSpec().userObject();
    }

    private static List<String> shapes(KernelBenchCommand c) {
        return c.shapes.stream().map(s -> s.n() + "x" + s.k()).toList();
    }

    @Test
    void defaults() {
        KernelBenchCommand c = parse();
        assertThat(shapes(c)).containsExactly("4096x4096", "11008x4096", "4096x11008", "14336x4096", "4096x14336");
        assertThat(c.batches).containsExactly(1, 16, 512);
        assertThat(c.formats.list()).extracting(QuantizationConfig::label)
                .containsExactly("fp32", "fp16", "bf16", "int8", "int4-g128", "int4s-g128", "fp4-g128", "nf4-g128");
        assertThat(c.activations).containsExactly(ActivationMode.FP32, ActivationMode.INT8);
        assertThat(c.threads.threads).isNull();
        assertThat(c.isa).isNull();
        assertThat(c.kernel).isEqualTo("native");
        assertThat(c.reference).isEqualTo("fp16");
        // the sampling plan's defaults (SPEC §4, with a 20 s budget per shape x batch)
        var s = c.sampling.sampling(15, 100, 20);
        assertThat(s.warmup()).isEqualTo(15);
        assertThat(s.iterations()).isEqualTo(100);
        assertThat(s.maxSeconds()).isEqualTo(20.0);
        assertThat(s.outlierSigma()).isEqualTo(2.0);
        assertThat(c.output.json).isFalse();
        assertThat(c.output.out).isNull();
        assertThat(c.markdown).isNull();
        assertThat(c.memory.sizing()).isEqualTo(MemorySizing.defaults());
    }

    @Test
    void everyOption() {
        KernelBenchCommand c = parse("--formats", "int4-g32, fp16,nf4", "--activations", "int8", "--shapes",
                "64X96,33x200", "--batch", "1,5", "--threads", "3", "--isa", "scalar", "--warmup", "0", "--iterations",
                "7", "--max-seconds", "1.5", "--outlier-sigma", "3", "--json", "--out", "r/out.json", "--markdown",
                "r/out.md", "--working-set-mb", "64", "--probe-mb", "96", "--kernel", "native", "--reference", "same");
        assertThat(c.formats.list()).extracting(QuantizationConfig::label).containsExactly("int4-g32", "fp16", "nf4-g128");
        assertThat(c.activations).containsExactly(ActivationMode.INT8);
        assertThat(shapes(c)).containsExactly("64x96", "33x200");
        assertThat(c.batches).containsExactly(1, 5);
        assertThat(c.threads.threads).isEqualTo(3);
        assertThat(c.isa).isEqualTo(Isa.SCALAR);
        var s = c.sampling.sampling(15, 100, 20);
        assertThat(s.warmup()).isZero();
        assertThat(s.iterations()).isEqualTo(7);
        assertThat(s.maxSeconds()).isEqualTo(1.5);
        assertThat(s.outlierSigma()).isEqualTo(3.0);
        assertThat(c.output.json).isTrue();
        assertThat(c.output.out).isEqualTo(Path.of("r/out.json"));
        assertThat(c.markdown).isEqualTo(Path.of("r/out.md"));
        assertThat(c.memory.sizing()).isEqualTo(new MemorySizing(64L << 20, 96L << 20));
        assertThat(c.reference).isEqualTo("same");
        // --reps is the same option as --iterations (bench model and backends spell it so)
        assertThat(parse("--reps", "4").sampling.sampling(15, 100, 20).iterations()).isEqualTo(4);
        assertThat(parse("--activations", "FP32,int8").activations).containsExactly(ActivationMode.FP32,
                ActivationMode.INT8);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', textBlock = """
            --shapes        | 40x        | bad shape '40x'
            --shapes        | 4096       | bad shape '4096'
            --shapes        | 4x5x6      | bad shape '4x5x6'
            --shapes        | 0x64       | bad shape '0x64': N and K must be positive
            --shapes        | 64xabc     | bad shape '64xabc': expected NxK with integers
            --batch         | one        | '--batch'
            --formats       | fp5        | unknown format 'fp5'
            --formats       | int4-g48   | group 48 is not one of 32, 64, 128, 256
            --formats       | fp16-g32   | dense format 'fp16' takes no group
            --formats       | ' , '      | empty list of configs
            --formats       | mixed:attn.*=fp4-g64 | is a per-layer policy
            --activations   | int3       | must be fp32, int8 or bf16, got 'int3'
            --threads       | -1         | --threads must be >= 0, got -1
            --isa           | sse9       | unknown ISA 'sse9'
            --warmup        | -2         | warmup must be >= 0, got -2
            --iterations    | 1          | iterations must be >= 2
            --iterations    | 2.5        | '--iterations'
            --max-seconds   | 0          | maxSeconds must be > 0, got 0
            --max-seconds   | soon       | '--max-seconds'
            --outlier-sigma | -1         | outlierSigma must be > 0, got -1
            --outlier-sigma | NaN        | outlierSigma must be > 0, got NaN
            --kernel        | tinygemm   | no linear kernel named 'tinygemm'
            --bogus         | 1          | unknown option '--bogus'
            """)
    void badValuesNameTheOptionAndValue(String option, String value, String message) {
        Run r = cli("bench", "kernels", "--shapes", "64x64", "--batch", "1", "--formats", "fp16", "--iterations", "2",
                "--warmup", "0", option, value);
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("quantgate bench kernels: ").contains(message);
        assertThat(r.err().lines().count()).as(r.err()).isLessThanOrEqualTo(2);
    }

    @Test
    void optionWithoutValueAndUnknownOptions() {
        Run noValue = cli("bench", "kernels", "--batch", "1", "--warmup");
        assertThat(noValue.code()).isEqualTo(2);
        assertThat(noValue.err()).contains("Missing required parameter for option '--warmup'");
        Run verbose = cli("bench", "kernels", "--verbose");
        assertThat(verbose.err()).contains("unknown option '--verbose'");
        Run typo = cli("bench", "kernels", "--shapes", "64x64", "--frobnicate", "x");
        assertThat(typo.err()).startsWith("quantgate bench kernels: unknown option '--frobnicate'");
        Run help = cli("bench", "kernels", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("--formats=IDS").contains("--working-set-mb").contains("--reference");
    }

    /** fp16 (the reference, timed once) + int4 and fp4, each with fp32 and int8 activations. */
    private static final int CASES = 5;

    @Test
    void smokeRunWritesTheResultsDocumentAndMarkdown(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("sub/kernels.json");
        Path md = dir.resolve("kernels.md");
        Run r = cli("bench", "kernels", "--shapes", "64x96,33x200", "--batch", "1,5", "--formats",
                "fp16,int4-g32,fp4-g64", "--warmup", "1", "--iterations", "3", "--max-seconds", "1", "--threads", "1",
                "--working-set-mb", "8", "--probe-mb", "16", "--json", "--out", out.toString(), "--markdown",
                md.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("kernel 64x96 M=1").contains("kernel 33x200 M=5");

        ObjectMapper mapper = new ObjectMapper();
        JsonNode root = mapper.readTree(out.toFile());
        // --json: stdout is exactly the document (progress and the table went to stderr)
        assertThat(mapper.readTree(r.out())).isEqualTo(root);
        assertThat(root.get("schema").asText()).isEqualTo(ResultsSchema.ID);
        assertThat(root.get("command").asText()).startsWith("quantgate bench kernels --shapes 64x96,33x200");
        JsonNode machine = root.get("machine");
        assertThat(machine.get("cpu").asText()).isNotBlank();
        assertThat(machine.get("cores").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(machine.get("isa").asText()).isIn(java.util.Arrays.stream(io.quantgate.kernels.nativeimpl.Isa.values())
                .map(io.quantgate.kernels.nativeimpl.Isa::id).toList());
        assertThat(machine.get("threads").asInt()).isEqualTo(1);
        assertThat(machine.get("llc_bytes").asLong()).isEqualTo(MachineInfo.lastLevelCacheBytes()).isPositive();

        JsonNode results = root.get("results");
        assertThat(results).hasSize(CASES);
        Set<String> seen = new HashSet<>();
        int rowCount = 0;
        for (JsonNode rec : results) {
            String where = rec.get("config").asText() + "/" + rec.get("activations").asText();
            assertThat(seen.add(where)).as("duplicate " + where).isTrue();
            assertThat(rec.get("backend").asText()).isEqualTo("native");
            assertThat(rec.get("kernel").asText()).isEqualTo("native");
            assertThat(rec.get("status").asText()).isEqualTo("SUCCESSFUL");
            assertThat(rec.get("error").isNull()).isTrue();
            assertThat(rec.get("test").get("name").asText()).isEqualTo("quantgate bench kernels");
            String format = rec.get("config_format").asText();
            String act = rec.get("activations").asText();
            assertThat(format).isIn("fp16", "int4", "fp4");
            if (act.equals("int8")) {
                assertThat(format).as("int8 activations only for quantized formats").isIn("int4", "fp4");
            }
            assertThat(rec.get("config_group").isNull() ? 0 : rec.get("config_group").asInt()).isEqualTo(switch (format) {
                case "fp16" -> 0;
                case "int4" -> 32;
                default -> 64;
            });
            JsonNode t = rec.get("throughput");
            assertThat(t.get("level").asText()).isEqualTo("kernel");
            assertThat(t.get("reference").asText()).isEqualTo("fp16");
            assertThat(t.get("warmup").asInt()).isEqualTo(1);
            assertThat(t.get("iterations").asInt()).isEqualTo(3);
            assertThat(t.get("outlier_sigma").asDouble()).isEqualTo(2.0);
            assertThat(t.get("max_seconds").asDouble()).isEqualTo(1.0);
            JsonNode rows = t.get("rows");
            assertThat(rows).hasSize(4);
            for (JsonNode row : rows) {
                rowCount++;
                String at = where + " " + row.get("label").asText();
                int n = row.get("n").asInt(), k = row.get("k").asInt(), batch = row.get("batch").asInt();
                assertThat(n + "x" + k).isIn("64x96", "33x200");
                assertThat(batch).isIn(1, 5);
                assertThat(row.get("unit").asText()).isEqualTo("GB/s");
                assertThat(row.get("rate").get("median").asDouble()).as(at).isPositive();
                assertThat(row.get("gflops").asDouble()).as(at).isPositive();
                assertThat(row.get("fraction_of_bandwidth").get("median").asDouble()).as(at).isPositive();
                assertThat(row.get("probe_gbs").get("median").asDouble()).as(at).isPositive();
                assertThat(row.get("speedup").get("median").asDouble()).as(at).isPositive();
                assertThat(row.get("reference_subject").asText()).isEqualTo("fp16 (fp32 activations) on native");
                // --iterations 3 and no budget stop below 5 rounds: exactly 3 measured rounds, paired arrays
                assertThat(row.get("rounds").asInt()).isEqualTo(3);
                for (String a : List.of("seconds", "reference_seconds", "probe_gbs", "rates", "reference_rates",
                        "speedups")) {
                    assertThat(row.get("samples").get(a)).as(at + " " + a).hasSize(3);
                }
                row.get("samples").get("seconds").forEach(x -> assertThat(x.asDouble()).isPositive());
                int kept = row.get("rate").get("n").asInt(), dropped = row.get("rate").get("dropped").asInt();
                assertThat(kept + dropped).isEqualTo(3);
                if (format.equals("fp16")) {
                    assertThat(act).isEqualTo("fp32");
                    // the reference case is the reference itself
                    row.get("samples").get("speedups").forEach(x -> assertThat(x.asDouble()).isEqualTo(1.0));
                    assertThat(row.get("bytes_per_call").asLong()).isEqualTo(2L * n * k);
                }
            }
        }
        for (String c : List.of("fp16/fp32", "int4-g32/fp32", "int4-g32/int8", "fp4-g64/fp32", "fp4-g64/int8")) {
            assertThat(seen).contains(c);
        }

        List<String> lines = Files.readAllLines(md);
        String header = "| config | act | kernel | N x K | batch | median µs | GB/s | of bw | GFLOP/s | vs reference "
                + "| 95% CI | n |";
        int h = lines.indexOf(header);
        assertThat(h).as(String.join("\n", lines)).isNotNegative();
        assertThat(lines.get(h + 1)).startsWith("|---|");
        List<String> rows = new ArrayList<>();
        for (int i = h + 2; i < lines.size() && lines.get(i).startsWith("| "); i++) {
            rows.add(lines.get(i));
        }
        assertThat(rows).hasSize(rowCount);
        int i = 0;
        for (JsonNode rec : results) {
            for (JsonNode row : rec.get("throughput").get("rows")) {
                String[] cells = rows.get(i++).split("\\|");
                assertThat(cells[1].trim()).isEqualTo(rec.get("config").asText());
                assertThat(cells[2].trim()).isEqualTo(rec.get("activations").asText());
                assertThat(cells[4].trim()).isEqualTo(row.get("n").asInt() + "x" + row.get("k").asInt());
                assertThat(cells[5].trim()).isEqualTo(row.get("batch").asText());
                assertThat(cells[12].trim()).isEqualTo(row.get("rate").get("n").asText());
            }
        }
        assertThat(String.join("\n", lines)).contains("# QuantGate kernel benchmark");
        // atomic writes leave no temporary files behind
        try (var files = Files.list(out.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("kernels.json");
        }
    }
}
