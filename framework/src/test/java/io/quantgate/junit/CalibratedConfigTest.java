package io.quantgate.junit;

import io.quantgate.results.ResultsCollector;
import io.quantgate.results.model.Calibration;
import io.quantgate.results.model.ResultRecord;
import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Calibrated configs and mixed:auto through the Jupiter engine on stories260K: @QuantBench(calibration) calibrates
 * once, every calibrated result records the text it was fitted on, and mixed:auto's assignment.
 */
class CalibratedConfigTest {
    static final List<QuantResult> SEEN = new CopyOnWriteArrayList<>();

    @BeforeEach
    void needsData() {
        TestData.stories260K();
        TestData.wikiTestRaw();
        TestData.file("calibration/groups_merged.txt");
        SEEN.clear();
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2",
            calibration = "calibration/groups_merged.txt", calibrationChunks = 16, calibrationSeed = 3)
    static class Calibrated {
        @QuantTest
        @QuantConfig({"int4-g64", "int4-g64+gptq+act", "mixed:auto[fp4-g128,fp4,int8]"})
        @Perplexity(chunks = 4, maxKld = 5)
        void measure(QuantResult r) {
            SEEN.add(r);
        }
    }

    @Test
    void calibratedResultsRecordTheirCalibration() {
        EngineExecutionResults results = Kit.run(Calibrated.class);
        results.testEvents().assertStatistics(s -> s.started(3).succeeded(3).failed(0));
        assertThat(SEEN).extracting(QuantResult::config)
                .containsExactly("int4-g64", "int4-g64+gptq+act", "mixed:auto[fp4-g128,fp4,int8]");
        // GPTQ brings the model closer to fp32 than round to nearest on the same chunks
        double rtn = SEEN.get(0).perplexity().orElseThrow().meanKld();
        double gptq = SEEN.get(1).perplexity().orElseThrow().meanKld();
        assertThat(gptq).isLessThan(rtn);

        List<ResultRecord> records = results.testEvents().finished().stream().map(Event::getTestDescriptor)
                .map(d -> ResultsCollector.take(d.getUniqueId().toString()).orElseThrow()).toList();
        assertThat(records.get(0).calibration()).as("round to nearest needs no calibration").isNull();
        Calibration g = records.get(1).calibration();
        assertThat(g.method()).isEqualTo("gptq+act");
        assertThat(g.dataset()).isEqualTo("groups_merged.txt");
        assertThat(g.datasetSha256()).hasSize(64);
        assertThat(g.chunks()).isEqualTo(16);
        assertThat(g.ctx()).isEqualTo(512);
        assertThat(g.tokens()).isEqualTo(16L * 512);
        assertThat(g.seed()).isEqualTo(3L);
        assertThat(g.assignment()).isNull();
        Calibration auto = records.get(2).calibration();
        assertThat(auto.method()).isEqualTo("mixed:auto/kld");
        assertThat(auto.assignment()).hasSize(5 * 7 + 1)
                .allSatisfy((t, id) -> assertThat(id).matches("(fp4|int8)(-g\\d+)?"));
        assertThat(auto.bitsPerWeight()).isLessThanOrEqualTo(auto.budgetBitsPerWeight());
        assertThat(records.get(2).configFormat()).isEqualTo("mixed");
        // the compression the record states is the assignment's (bits/weight ≈ 16 / compression, linears only)
        assertThat(16.0 / records.get(2).compressionRatio()).isCloseTo(auto.bitsPerWeight(),
                org.assertj.core.data.Offset.offset(1e-9));
    }
}
