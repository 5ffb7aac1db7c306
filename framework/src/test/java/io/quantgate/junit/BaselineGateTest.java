package io.quantgate.junit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantgate.gate.GateResult;
import io.quantgate.gate.Verdict;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.testkit.engine.EngineExecutionResults;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The regression gate against stored baselines, through the Jupiter engine. */
class BaselineGateTest {
    static final List<QuantResult> SEEN = new CopyOnWriteArrayList<>();

    @TempDir
    Path dir;

    @BeforeEach
    void clear() {
        SEEN.clear();
    }

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class Regression {
        @QuantTest
        @QuantConfig("int8")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "256x256", warmup = 1, iterations = 8,
                maxRegressionPercent = 99)
        void t(QuantResult r) {
            SEEN.add(r);
        }
    }

    private EngineExecutionResults run(boolean update) {
        return Kit.run(Regression.class, Map.of("quantgate.baseline.dir", dir.toString(), "quantgate.baseline.update",
                Boolean.toString(update)));
    }

    private Path baselineFile() throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> files = s.filter(Files::isRegularFile).toList();
            assertThat(files).hasSize(1);
            return files.get(0);
        }
    }

    @Test
    void withoutABaselineTheGateIsInconclusiveAndSaysHowToRecordOne() {
        EngineExecutionResults r = run(false);
        r.testEvents().assertStatistics(s -> s.started(1).aborted(1));
        assertThat(PerplexityGateTest.throwable(r.testEvents().aborted().list().get(0)).getMessage())
                .contains("maxRegressionPercent INCONCLUSIVE", "no stored baseline", "does not exist",
                        "-Dquantgate.baseline.update=true");
    }

    @Test
    void anUpdateRecordsThePairedSpeedupsAndALaterRunComparesWithThem() throws Exception {
        run(true).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        Path file = baselineFile();
        assertThat(dir.relativize(file).toString()).isEqualTo("synthetic_tiny/int8-native.json");
        var json = new ObjectMapper().readTree(file.toFile());
        assertThat(json.get("schema").asText()).isEqualTo("quantgate-baseline/1");
        var entry = json.get("entries").get(0);
        assertThat(entry.get("samples")).hasSize(8);
        assertThat(entry.get("key").get("label").asText()).isEqualTo("256x256 M=1");
        assertThat(entry.get("key").get("model_sha256").asText()).hasSize(64);
        assertThat(entry.get("fingerprint").get("cores").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        QuantResult recorded = SEEN.get(0);
        // the row has a reference: the baseline holds the per-round speedups over it, which machine drift between
        // runs cancels out of, not the raw rates
        var row = recorded.throughput().orElseThrow().row();
        assertThat(entry.get("unit").asText()).isEqualTo("speedup over " + row.referenceSubject());
        double[] stored = row.samples().speedups();
        for (int i = 0; i < stored.length; i++) {
            assertThat(entry.get("samples").get(i).asDouble()).isEqualTo(stored[i]);
        }

        SEEN.clear();
        run(false).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        GateResult g = SEEN.get(0).gates().get(0);
        assertThat(g.name()).isEqualTo("maxRegressionPercent");
        // 99% slower than itself would take a machine a hundred times slower: the whole interval is below 99
        assertThat(g.verdict()).isEqualTo(Verdict.PASS);
        assertThat(g.high()).isLessThan(99);
        assertThat(g.comparedWith()).contains("stored baseline " + file + " (8 samples, median ");
        assertThat(g.note()).contains("Mann-Whitney p = ");
    }

    @Test
    void aBaselineFromAnotherMachineIsReportedAndNotCompared() throws Exception {
        run(true).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        Path file = baselineFile();
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = (ObjectNode) om.readTree(file.toFile());
        ((ObjectNode) root.get("entries").get(0).get("fingerprint")).put("cpu", "Some Other CPU 9000");
        Files.writeString(file, om.writeValueAsString(root));
        EngineExecutionResults r = run(false);
        r.testEvents().assertStatistics(s -> s.started(1).aborted(1));
        assertThat(PerplexityGateTest.throwable(r.testEvents().aborted().list().get(0)).getMessage())
                .contains("measured on another machine and is not compared", "cpu: ", "Some Other CPU 9000 there");
    }

    @Test
    void aMalformedBaselineFileFailsNamingTheFile() throws Exception {
        run(true).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        Path file = baselineFile();
        Files.writeString(file, "{\"schema\": \"quantgate-baseline/1\", \"entries\": [ {\"key\": ");
        EngineExecutionResults r = run(false);
        r.testEvents().assertStatistics(s -> s.started(1).failed(1));
        assertThat(PerplexityGateTest.throwable(r.testEvents().failed().list().get(0)).getMessage())
                .contains("baseline file " + file + " is not valid JSON");
    }
}
