package io.quantgate.junit;

import org.junit.jupiter.api.Test;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A @QuantTest without a limit measures and says it is not a gate; with quantgate.requireGates it fails. */
class UngatedTest {

    @Fixture
    @QuantBench(model = "synthetic:tiny")
    static class NoLimit {
        @QuantTest
        @QuantConfig("int8")
        @Throughput(level = Throughput.Level.KERNEL, shapes = "64x64", warmup = 0, iterations = 2)
        void t() {
        }
    }

    @Test
    void withoutALimitTheTestPassesButSaysItIsNotGated() {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        EngineExecutionResults r;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            r = Kit.run(NoLimit.class);
        } finally {
            System.setOut(out);
        }
        r.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        String summary = r.testEvents().reportingEntryPublished().map(e -> e.getPayload(ReportEntry.class)
                .orElseThrow().getKeyValuePairs().get("quantgate.summary")).findFirst().orElseThrow();
        assertThat(summary).startsWith("int8 · ").endsWith("· NOT GATED");
        assertThat(captured.toString(StandardCharsets.UTF_8))
                .contains("[quantgate] NoLimit.t [int8]: measured, not gated: no limit set");
    }

    @Test
    void requireGatesMakesAnUngatedTestFail() {
        EngineExecutionResults r = Kit.run(NoLimit.class, Map.of(QuantInvocationExtension.REQUIRE_GATES, "true"));
        r.testEvents().assertStatistics(s -> s.started(1).failed(1));
        assertThat(PerplexityGateTest.throwable(r.testEvents().failed().list().getFirst()))
                .hasMessageContaining("measured, not gated").hasMessageContaining("quantgate.requireGates=true");
    }
}
