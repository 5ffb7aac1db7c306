package io.quantgate.junit;

import io.quantgate.evaluation.ComparisonResult;
import io.quantgate.evaluation.PerplexityOptions;
import io.quantgate.evaluation.PerplexityResult;
import io.quantgate.gate.Verdict;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.runtime.TestData;
import io.quantgate.runtime.model.LlamaModel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The perplexity gates end to end through the Jupiter engine, on the real stories260K and wiki.test.raw with
 * 4 chunks of 512 tokens. At 4 chunks the paired 95% interval of the PPL delta of fp4-g32 is about
 * [+19%, +42%] and of int4-g128 about [+7%, +21%] (measured by the evaluation package); the limits below sit
 * far outside or well inside those intervals, so the verdicts do not depend on the last digit.
 */
class PerplexityGateTest {
    static final List<Object> SEEN = new CopyOnWriteArrayList<>();

    @BeforeEach
    void needsData() {
        TestData.stories260K();
        TestData.wikiTestRaw();
        SEEN.clear();
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin", dataset = "wikitext-2")
    static class Passing {
        @QuantTest
        @QuantConfig({"fp4-g32", "fp16"})
        @Perplexity(chunks = 4, maxDeltaPercent = 100, maxKld = 5, minSameTop = 1)
        void gate(QuantResult r, ComparisonResult c, PerplexityResult p, LlamaModel m) {
            SEEN.add(r);
            SEEN.add(c);
            SEEN.add(p);
            SEEN.add(m.linearIds());
        }
    }

    @Test
    void passingGatesRunTheBodyWithTheResultsAndTheQuantizedModel() {
        EngineExecutionResults results = Kit.run(Passing.class);
        results.testEvents().assertStatistics(s -> s.started(2).succeeded(2).failed(0).aborted(0));
        assertThat(SEEN).hasSize(8);
        QuantResult fp4 = (QuantResult) SEEN.get(0);
        ComparisonResult c = (ComparisonResult) SEEN.get(1);
        assertThat(fp4.config()).isEqualTo("fp4-g32");
        assertThat(fp4.verdict()).contains(Verdict.PASS);
        assertThat(fp4.gates()).extracting(g -> g.name()).containsExactly("maxDeltaPercent", "maxKld", "minSameTop");
        assertThat(fp4.perplexity()).containsSame(c);
        assertThat(SEEN.get(2)).isSameAs(c.quant());
        assertThat(c.chunks()).isEqualTo(4);
        assertThat(c.scored()).isEqualTo(4 * 255);
        assertThat(c.deltaPercentCi().high()).isLessThanOrEqualTo(100);
        // the injected model is the fp4-g32 variant: every linear carries that id (group 32 <= K everywhere)
        @SuppressWarnings("unchecked")
        Map<String, ConfigId> ids = (Map<String, ConfigId>) SEEN.get(3);
        assertThat(ids.values()).isNotEmpty().allMatch(id -> id.toString().equals("fp4-g32"));
        QuantResult fp16 = (QuantResult) SEEN.get(4);
        assertThat(fp16.config()).isEqualTo("fp16");
        // both were compared with the same baseline on the same tokens
        assertThat(((ComparisonResult) SEEN.get(5)).pplBase()).isEqualTo(c.pplBase());
        assertThat(fp4.compressionRatio()).isGreaterThan(3).isLessThan(fp16.compressionRatio() * 4);
        assertThat(fp16.compressionRatio()).isEqualTo(1.0);
        // the data files are pinned by hash (published hashes of shared/data/README.md)
        assertThat(fp4.inputs().modelSha256()).isEqualTo("b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696");
        assertThat(fp4.inputs().datasetSha256()).isEqualTo("173c87a53759e0201f33e0ccf978e510c2042d7f2cb78229d9a50d79b9e7dd08");
        assertThat(fp4.inputs().tokenizerSha256()).isEqualTo("037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312");

        // the display name is the config; the figures and the verdict are report entries (what IDEs show)
        List<Event> finished = results.testEvents().finished().list();
        assertThat(finished.get(0).getTestDescriptor().getDisplayName()).isEqualTo("fp4-g32");
        assertThat(finished.get(1).getTestDescriptor().getDisplayName()).isEqualTo("fp16");
        List<ReportEntry> entries = results.testEvents().reportingEntryPublished()
                .map(e -> e.getPayload(ReportEntry.class).orElseThrow()).toList();
        assertThat(entries).hasSize(2);
        assertThat(entries.get(0).getKeyValuePairs().get("quantgate.summary")).startsWith("fp4-g32 · ΔPPL +")
                .endsWith("PASS");
        assertThat(entries.get(1).getKeyValuePairs().get("quantgate.summary")).startsWith("fp16 · ΔPPL ");
        assertThat(entries.get(0).getKeyValuePairs()).containsEntry("quantgate.config", "fp4-g32")
                .containsEntry("quantgate.verdict", "PASS").containsEntry("quantgate.chunks", "4")
                .containsKey("quantgate.ppl_delta_percent");
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    static class Failing {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Perplexity(chunks = 4, maxDeltaPercent = 1, method = Perplexity.Method.CHUNKED)
        void gate() {
            SEEN.add("body ran");
        }
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    static class SpreadFailing {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Perplexity(chunks = 4, maxChunks = 64, maxDeltaPercent = 1)
        void gate() {
        }
    }

    /** The default layout spreads a partial run's chunks over the text, and the verdict says so. */
    @Test
    void aPartialRunIsSpreadOverTheTextByDefault() {
        EngineExecutionResults results = Kit.run(SpreadFailing.class);
        results.testEvents().assertStatistics(s -> s.started(1).failed(1));
        Throwable t = throwable(results.testEvents().failed().list().get(0));
        assertThat(t.getMessage()).contains("maxDeltaPercent FAIL", "chunks spread over wiki.test.raw (ctx 512)");
    }

    @Test
    void aGateWhoseWholeIntervalIsBeyondTheLimitFailsWithTheFigures() {
        EngineExecutionResults results = Kit.run(Failing.class);
        results.testEvents().assertStatistics(s -> s.started(1).failed(1));
        Throwable t = throwable(results.testEvents().failed().list().get(0));
        assertThat(t).isInstanceOf(AssertionFailedError.class);
        assertThat(t.getMessage()).contains("gate failed for fp4-g32", "maxDeltaPercent FAIL: PPL delta % = ",
                "99.5% CI [", "limit <= 1.000", "compared with fp32 on the same 4 chunks of wiki.test.raw (ctx 512)");
        assertThat(SEEN).as("the body does not run after a failed gate").isEmpty();
        assertThat(results.testEvents().failed().list().get(0).getTestDescriptor().getDisplayName()).isEqualTo("fp4-g32");
        assertThat(results.testEvents().reportingEntryPublished().list().get(0).getPayload(ReportEntry.class)
                .orElseThrow().getKeyValuePairs().get("quantgate.summary")).startsWith("fp4-g32 · ΔPPL +").endsWith("FAIL");
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    static class Inconclusive {
        @QuantTest
        @QuantConfig("int4-g128")
        @Perplexity(chunks = 4, maxChunks = 4, maxDeltaPercent = 14)
        void gate() {
            SEEN.add("body ran");
        }
    }

    @Test
    void anIntervalStraddlingTheLimitAbortsWithTheReasonOnceNothingIsLeftToMeasure() {
        EngineExecutionResults results = Kit.run(Inconclusive.class);
        results.testEvents().assertStatistics(s -> s.started(1).aborted(1).failed(0).succeeded(0));
        Throwable t = throwable(results.testEvents().aborted().list().get(0));
        assertThat(t).isInstanceOf(TestAbortedException.class);
        assertThat(t.getMessage()).contains("inconclusive", "never passes", "maxDeltaPercent INCONCLUSIVE",
                "limit <= 14.000", "no more chunks to re-measure with (4 of ", "limit 4)");
        assertThat(SEEN).isEmpty();
    }

    @Test
    void anInconclusiveVerdictIsRemeasuredWithMoreChunks() {
        // fp4-g32 at 4 chunks: about [+5%, +60%] on the gates' 99.5 % interval, straddling 36; more chunks decide it
        EngineExecutionResults results = Kit.run(RemeasuredTight.class);
        results.testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        QuantResult r = (QuantResult) SEEN.get(0);
        ComparisonResult c = r.perplexity().orElseThrow();
        assertThat(r.perplexityRemeasures()).isGreaterThanOrEqualTo(1);
        assertThat(c.chunks()).isEqualTo(4 << r.perplexityRemeasures());
        assertThat(c.chunks()).isLessThanOrEqualTo(64);
        // the reported interval is at quantgate.confidence (95 %), the gate decided on the wider 99.5 % one
        assertThat(c.deltaPercentCi().high()).isLessThanOrEqualTo(36);
        assertThat(r.gates().getFirst().high()).isLessThanOrEqualTo(36).isGreaterThan(c.deltaPercentCi().high());
        assertThat(r.verdict()).contains(Verdict.PASS);
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    static class RemeasuredTight {
        @QuantTest
        @QuantConfig("fp4-g32")
        @Perplexity(chunks = 4, maxChunks = 64, maxDeltaPercent = 36)
        void gate(QuantResult r) {
            SEEN.add(r);
        }
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    static class Sliding {
        @QuantTest
        @QuantConfig("int8")
        @Perplexity(ctx = 128, chunks = 6, method = Perplexity.Method.SLIDING, stride = 32, maxKld = 1)
        void gate(PerplexityResult p) {
            SEEN.add(p);
        }
    }

    @Test
    void slidingWindowsAreEvaluatedWithTheirStride() {
        Kit.run(Sliding.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        PerplexityResult p = (PerplexityResult) SEEN.get(0);
        assertThat(p.mode()).isEqualTo(PerplexityOptions.Mode.SLIDING);
        assertThat(p.stride()).isEqualTo(32);
        assertThat(p.chunks()).isEqualTo(6);
        // first window scores ctx - 1 tokens, every later one its last stride tokens (evaluation package rule)
        assertThat(p.scored()).isEqualTo(127 + 5 * 32);
    }

    /** A house gate built from the QuantGate annotations. */
    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @QuantTest
    @QuantConfig({"nf4-g64"})
    @Perplexity(chunks = 2, maxChunks = 2, maxKld = 10)
    @interface LooseQualityGate {
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    static class MetaAnnotated {
        @LooseQualityGate
        void gate(QuantResult r) {
            SEEN.add(r);
        }
    }

    @Test
    void theAnnotationsComposeIntoAMetaAnnotation() {
        Kit.run(MetaAnnotated.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));
        QuantResult r = (QuantResult) SEEN.get(0);
        assertThat(r.config()).isEqualTo("nf4-g64");
        assertThat(r.perplexity().orElseThrow().chunks()).isEqualTo(2);
        assertThat(r.gates()).singleElement().satisfies(g -> assertThat(g.name()).isEqualTo("maxKld"));
    }

    @Test
    void theChunksCanBeOverriddenByConfiguration() {
        Kit.run(MetaAnnotated.class, Map.of("quantgate.chunks", "3")).testEvents()
                .assertStatistics(s -> s.started(1).succeeded(1));
        assertThat(((QuantResult) SEEN.get(0)).perplexity().orElseThrow().chunks()).isEqualTo(3);
    }

    @Fixture
    @QuantBench(model = "llama2c-stories260K/stories260K.bin")
    static class WrongParameter {
        @QuantTest
        @QuantConfig("fp16")
        @Perplexity(chunks = 1, maxChunks = 1)
        void gate(ThroughputResult t) {
            SEEN.add(t);
        }
    }

    @Test
    void askingForAResultTheTestDoesNotMeasureSaysWhy() {
        EngineExecutionResults results = Kit.run(WrongParameter.class);
        results.testEvents().assertStatistics(s -> s.started(1).failed(1));
        assertThat(throwable(results.testEvents().failed().list().get(0)).getMessage())
                .contains("ThroughputResult is measured only with @Throughput");
    }

    static Throwable throwable(Event e) {
        return e.getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
    }
}
