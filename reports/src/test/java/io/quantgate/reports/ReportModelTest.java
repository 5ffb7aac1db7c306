package io.quantgate.reports;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The report's choices on the fixtures, against values worked out by hand from the fixture files. */
class ReportModelTest {

    @Test
    void modelsAppearInResultsOrderWithRecordsWithoutFiguresLeftOut() {
        // the last record of quality.json failed before measuring: it names no model and makes no row
        assertThat(Fixtures.model("quality.json").models()).containsExactly("stories260K.bin", "model-b.bin");
    }

    @Test
    void rowsAreSortedByPplDeltaAndTheBetterSampledDuplicateWins() {
        ReportModel m = Fixtures.model("quality.json");
        // stories260K: fp16 +0.01, int8 +0.20 (the 4-chunk record, not the 2-chunk +0.90), int4-g64 +2.80,
        // fp4-g32 +3.50, mixed +4.00, fp4-g128 +5.20
        assertThat(m.rowsOf("stories260K.bin")).extracting(ConfigRow::config).containsExactly("fp16", "int8",
                "int4-g64", "fp4-g32", "mixed:attn.*=fp4-g32,mlp.*=fp4-g128", "fp4-g128");
        ConfigRow int8 = m.rowsOf("stories260K.bin").get(1);
        assertThat(int8.pplDeltaPercent()).isEqualTo(0.20);
        assertThat(int8.ppl().scored()).isEqualTo(1020);
        assertThat(int8.records()).hasSize(2);
    }

    @Test
    void bestIsTheLowestPplDeltaAmongConfigsCompressingAtLeastTwice() {
        ReportModel m = Fixtures.model("quality.json");
        // stories260K: fp16 (1.00×) and int8 (1.95×) have lower deltas but compress less than 2×;
        // of the rest int4-g64 has the lowest delta (2.80 < 3.50 < 4.00 < 5.20)
        ConfigRow a = m.best("stories260K.bin").orElseThrow();
        assertThat(a.config()).isEqualTo("int4-g64");
        assertThat(a.pplDeltaPercent()).isEqualTo(2.80);
        assertThat(a.compression()).isEqualTo(3.66);
        // model-b: int8 1.90× is out; nf4-g64 +1.50 beats the mixed +2.00
        assertThat(m.best("model-b.bin").orElseThrow().config()).isEqualTo("nf4-g64");
    }

    @Test
    void aModelWithoutPplHasNoBest() {
        ReportModel m = Fixtures.model("backends.json");
        assertThat(m.best("synthetic:llama-1b")).isEmpty();
    }

    @Test
    void mixedConfigsAreComparedPairedWithTheUniformConfigsNearestInSize() {
        List<MixedComparison> pairs = Fixtures.model("quality.json").mixedComparisons();
        // stories260K: the mixed config compresses 3.70x; nearest first: int4-g64 3.66x (more bits), fp4-g128 3.76x
        // (fewer), fp4-g32 3.53x (more); int8 (1.95x) is far outside 25 % and no competitor either way
        assertThat(pairs).extracting(p -> p.mixed().model() + " " + p.uniform().config()).containsExactly(
                "stories260K.bin int4-g64", "stories260K.bin fp4-g128", "stories260K.bin fp4-g32",
                "model-b.bin nf4-g64");
        assertThat(pairs.get(0).bits()).isEqualTo("more bits");
        MixedComparison a = pairs.get(1);
        assertThat(a.uniform().config()).isEqualTo("fp4-g128");
        assertThat(a.bits()).isEqualTo("fewer bits");
        // KLD 0.06 vs 0.08 on every chunk: a point interval at -0.02
        assertThat(a.kldDifference().estimate()).isCloseTo(-0.02, within(1e-9));
        // 100 (104.0 / 105.2 - 1); the interval from the chunks' paired NLLs: 4.640 - 4.652 on every chunk
        assertThat(a.mixedVsUniformPercent().estimate()).isCloseTo(100 * (104.0 / 105.2 - 1), within(1e-9));
        assertThat(a.mixedVsUniformPercent().low()).isCloseTo(100 * Math.expm1(4.64 - 4.652), within(1e-9));
        assertThat(a.mixedVsUniformPercent().high()).isCloseTo(100 * Math.expm1(4.64 - 4.652), within(1e-9));
        // model-b: mixed 3.20x vs nf4-g64 3.70x (int8 1.90x stores more bits): 51.0 / 50.75
        MixedComparison b = pairs.get(3);
        assertThat(b.mixed().model()).isEqualTo("model-b.bin");
        assertThat(b.uniform().config()).isEqualTo("nf4-g64");
        assertThat(b.mixedVsUniformPercent().estimate()).isCloseTo(100 * (51.0 / 50.75 - 1), within(1e-9));
        assertThat(b.mixedVsUniformPercent().low()).isCloseTo(100 * Math.expm1(4.62 - 4.615), within(1e-9));
    }

    @Test
    void idsUsedByAMixedConfig() {
        assertThat(ReportModel.idsUsedBy("mixed:attn.*=fp4-g32,mlp.*=uniform:fp4-g128,lm_head=int8"))
                .containsExactly("fp4-g32", "fp4-g128", "int8");
    }

    @Test
    void backendsAreReferenceFirstAndSpeedupsAreRatiosOfMedians() {
        ReportModel m = Fixtures.model("backends.json");
        assertThat(m.referenceBackend()).isEqualTo("native");
        assertThat(m.backends()).containsExactly("native", "jlama", "llamacpp");
        // tg128 medians: llamacpp 12/24/45 over native 10/18/30 -> 1.2, 1.333.., 1.5; jlama 5/9 over 10/18 -> 0.5
        assertThat(speedup(m, "tg128", "int4-g128", "llamacpp")).isCloseTo(1.5, within(1e-12));
        assertThat(speedup(m, "tg128", "int8", "llamacpp")).isCloseTo(24.0 / 18.0, within(1e-12));
        assertThat(speedup(m, "tg128", "fp16", "llamacpp")).isCloseTo(1.2, within(1e-12));
        assertThat(speedup(m, "tg128", "int8", "jlama")).isCloseTo(0.5, within(1e-12));
        assertThat(speedup(m, "pp512", "fp16", "llamacpp")).isCloseTo(250.0 / 200.0, within(1e-12));
        // the reference over itself
        assertThat(speedup(m, "tg128", "int8", "native")).isEqualTo(1.0);
        // the charts use the decode workload only
        assertThat(m.chartCells()).allMatch(c -> c.workload().equals("tg128")).hasSize(8);
    }

    @Test
    void anotherReferenceBackendCanBeChosenButMustHaveTokensPerSecond() {
        ReportModel m = ReportModel.of(Fixtures.load("backends.json"), "llamacpp");
        assertThat(m.backends()).containsExactly("llamacpp", "jlama", "native");
        // native int4-g128 30 over llamacpp 45
        assertThat(speedup(m, "tg128", "int4-g128", "native")).isCloseTo(30.0 / 45.0, within(1e-12));
        assertThatThrownBy(() -> ReportModel.of(Fixtures.load("backends.json"), "onnxruntime"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("reference backend 'onnxruntime' has no tokens/s in these results (backends with tokens/s: "
                        + "jlama, llamacpp, native)");
    }

    @Test
    void withoutTokensPerSecondThereAreNoBackendsAndTheDefaultReferenceIsNative() {
        ReportModel m = Fixtures.model("quality.json");
        assertThat(m.backends()).isEmpty();
        assertThat(m.referenceBackend()).isEqualTo("native");
    }

    @Test
    void weightGbPerSecondComesFromDecodeOrBatchOneKernelRows() {
        ReportModel m = Fixtures.model("backends.json");
        ConfigRow int4 = m.rows().stream().filter(r -> r.config().equals("int4-g128") && r.backend().equals("native"))
                .findFirst().orElseThrow();
        // 700,000,000 weight bytes per token × 30 tokens/s = 21.0 GB/s
        assertThat(int4.weightGbPerSecond()).isCloseTo(21.0, within(1e-9));
        assertThat(int4.tokensPerSecond().source()).isEqualTo("tg128");
        // real kernel suite records: median over the M=1 rows of each row's median GB/s
        ReportModel k = Fixtures.model("suite-kernel.json");
        ConfigRow fp4 = k.rows().stream().filter(r -> r.config().equals("fp4-g128")).findFirst().orElseThrow();
        double[] m1 = fp4.kernelRows().values().stream().filter(r -> r.batch() == 1)
                .mapToDouble(r -> r.medianRate()).sorted().toArray();
        assertThat(m1).hasSize(5);
        assertThat(fp4.weightGbPerSecond()).isEqualTo(m1[2]);
        assertThat(fp4.kernelRows()).hasSize(10);
    }

    @Test
    void kernelRowsKeepTheOrderTheyWereMeasuredIn() {
        ConfigRow fp4 = Fixtures.model("suite-kernel.json").rows().stream().filter(r -> r.config().equals("fp4-g128"))
                .findFirst().orElseThrow();
        List<String> inFile = fp4.records().stream().flatMap(r -> r.throughput().rows().stream())
                .map(io.quantgate.results.model.ThroughputRow::label).distinct().toList();
        assertThat(List.copyOf(fp4.kernelRows().keySet())).isEqualTo(inFile);
    }

    @Test
    void aUsersKernelGetsItsOwnRowsNamedAfterTheKernel(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        // the same records, the first one measured on a user's kernel inside the native engine
        String json = java.nio.file.Files.readString(Fixtures.file("suite-kernel.json"));
        java.nio.file.Path f = dir.resolve("results.json");
        java.nio.file.Files.writeString(f, json.replaceFirst("\"backend\": \"native\",",
                "\"backend\": \"native\", \"kernel\": \"CKernel\","));
        ReportModel m = ReportModel.of(ResultsLoader.load(List.of(f)), null);
        assertThat(m.rows()).extracting(ConfigRow::backend).contains("native / CKernel", "native");
        assertThat(m.rows().stream().filter(r -> r.backend().equals("native / CKernel")).toList()).hasSize(1);
    }

    @Test
    void unsuccessfulRecordsAreTheFailedAbortedAndIncompleteOnes() {
        ReportModel m = Fixtures.model("quality.json");
        assertThat(m.unsuccessful()).extracting(BenchmarkRecord::config)
                .containsExactly("mixed:attn.*=int4-g32,mlp.*=int4-g128", "nf4-g32");
    }

    @Test
    void quantizationOrderGoesFromWidestToNarrowest() {
        ReportModel m = Fixtures.model("quality.json", "backends.json");
        assertThat(List.of("fp4-g32", "int8", "mixed:x=int8", "fp16", "fp4-g128", "nf4-g64", "q4_0", "int4-g64")
                .stream().sorted(m.configOrder()).toList())
                .containsExactly("fp16", "int8", "int4-g64", "nf4-g64", "fp4-g32", "fp4-g128", "mixed:x=int8", "q4_0");
    }

    private static double speedup(ReportModel m, String workload, String config, String backend) {
        return m.speedupOverReference(m.cells().stream().filter(c -> c.workload().equals(workload)
                && c.config().equals(config) && c.backend().equals(backend)).findFirst().orElseThrow());
    }
}
