package io.quantgate.junit;

import io.quantgate.backend.CorruptWeightBackend;
import io.quantgate.gate.GateResult;
import io.quantgate.gate.Verdict;
import io.quantgate.runtime.TestData;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code @Perplexity(maxEngineDeltaPercent)}: the same weights on another engine must give the same perplexity. An
 * engine that is native with one corrupted weight ({@link CorruptWeightBackend}) passes every ordinary quality gate
 * here, and fails this one, naming both engines, both figures and what each ran.
 */
class EngineAgreementGateTest {
    static final List<QuantResult> SEEN = new CopyOnWriteArrayList<>();

    @BeforeEach
    void needsData() {
        TestData.stories260K();
        TestData.wikiTestRaw();
        SEEN.clear();
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2")
    static class TwoEngines {
        @QuantTest
        @Backends({"native", CorruptWeightBackend.NAME})
        @QuantConfig("fp16")
        @Perplexity(chunks = 4, maxDeltaPercent = 50, maxEngineDeltaPercent = 0.5)
        void gate(QuantResult r) {
            SEEN.add(r);
        }
    }

    @Test
    void aCorruptedWeightOnTheOtherEngineFailsNamingBothEnginesAndFigures() {
        EngineExecutionResults r = Kit.run(TwoEngines.class);
        r.testEvents().assertStatistics(s -> s.started(2).succeeded(1).failed(1));
        // on native the engine gate is not evaluated (an engine agrees with itself by definition)
        QuantResult nat = SEEN.getFirst();
        assertThat(nat.backend()).isEqualTo("native");
        assertThat(nat.gates()).extracting(GateResult::name).containsExactly("maxDeltaPercent");
        Throwable t = PerplexityGateTest.throwable(r.testEvents().failed().list().getFirst());
        assertThat(t.getMessage()).contains("maxEngineDeltaPercent")
                .contains("|PPL(corrupt-native) / PPL(native) - 1| %")
                .contains("corrupt-native PPL").contains("vs native PPL")
                .contains("layers.0.attn.o[0] = 16.0") // what the other engine ran
                .contains("wiki.test.raw");
    }
}
