package io.quantgate.backend;

import io.quantgate.evaluation.LogitsModel;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.ModelWeights;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The comparison table with stub engines whose timings are known exactly. */
class BackendComparisonTest {

    /** Runs only fp16; every prefill takes {@code ppSeconds}, every decode {@code tgSeconds}. */
    record StubBackend(String name, double ppSeconds, double tgSeconds) implements Backend {
        @Override
        public String description() {
            return "stub";
        }

        @Override
        public Optional<String> unavailableReason() {
            return name.equals("gone") ? Optional.of("libstub.so failed to load") : Optional.empty();
        }

        @Override
        public RunPlan plan(ModelWeights weights, String configId) {
            return configId.equals("fp16") ? RunPlan.runs(name, configId, name + " F16 from fp16 (exact values)", "stub")
                    : RunPlan.cannotRun(name, configId, name + " has no format for " + configId);
        }

        @Override
        public BackendModel open(ModelWeights weights, String configId, BackendOptions options) {
            RunPlan plan = plan(weights, configId).requireRunnable();
            return new BackendModel() {
                public RunPlan plan() {
                    return plan;
                }

                public int contextLength() {
                    return options.contextLength();
                }

                public int vocabSize() {
                    return weights.config().vocabSize();
                }

                public Optional<LogitsModel> logits() {
                    return Optional.empty();
                }

                public double prefill(int[] prompt) {
                    return ppSeconds;
                }

                public double decode(int[] tokens) {
                    return tgSeconds;
                }

                public void close() {
                }
            };
        }
    }

    @Test
    void rowsSayWhatRanOrWhyNotAndRatiosArePairedAgainstTheReference() {
        var ref = new StubBackend("ref", 1.0, 2.0);
        var fast = new StubBackend("fast", 0.5, 4.0);
        var gone = new StubBackend("gone", 1, 1);
        var log = new ByteArrayOutputStream();
        try (ModelWeights w = ModelFiles.open("synthetic:tiny")) {
            var s = new BackendComparison.Settings(List.of("fp16", "int8-g32"), List.of(ref, fast, gone), "ref", 16, 8, 1,
                    3, BackendOptions.defaults().withContextLength(32));
            var r = BackendComparison.throughput(w, s, new PrintStream(log, true));
            assertThat(r.cells()).hasSize(6);
            var fastFp16 = r.cells().get(1);
            assertThat(fastFp16.ran()).isEqualTo("fast F16 from fp16 (exact values)");
            assertThat(fastFp16.pp().median()).isEqualTo(32.0); // 16 tokens in 0.5 s
            assertThat(fastFp16.tg().median()).isEqualTo(2.0);  // 8 steps in 4 s
            assertThat(fastFp16.ppVsRef().estimate()).isCloseTo(2.0, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(fastFp16.tgVsRef().estimate()).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(r.cells().get(2).ran()).isEqualTo("unavailable: libstub.so failed to load");
            assertThat(r.cells().get(4).ran()).isEqualTo("cannot run: fast has no format for int8-g32");
            String md = r.markdown();
            assertThat(md).contains("| fp16 | fast | fast F16 from fp16 (exact values) | 32.00 ± 0.00 | 2.00 ± 0.00 | "
                    + "2.00× [2.00, 2.00] | 0.50× [0.50, 0.50] | – |");
            assertThat(md).contains("| int8-g32 | fast | cannot run: fast has no format for int8-g32 | – | – | – | – | – |");
            // 1 warmup + 3 rounds, 2 live cells each: the order rotates, so each cell goes first in some round
            assertThat(log.toString()).contains("round 1 ref / fp16").contains("round 2 fast / fp16");
        }
    }

    @Test
    void theReferenceMustBeAmongTheBackends() {
        assertThatThrownBy(() -> new BackendComparison.Settings(List.of("fp16"), List.of(new StubBackend("a", 1, 1)),
                "native", 8, 8, 0, 2, BackendOptions.defaults())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reference backend 'native' is not among the backends [a]");
    }

    @Test
    void pairedRatioOfNoisyRoundsCoversTheTrueRatio() {
        // subject is exactly 1.5× the reference in every round while both drift by ±30%: pairing cancels the drift
        double[] refTps = {100, 130, 70, 110};
        double[] sub = {150, 195, 105, 165};
        var ci = PairedRatio.of(sub, refTps, 0.95);
        assertThat(ci.estimate()).isCloseTo(1.5, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(ci.low()).isCloseTo(1.5, org.assertj.core.data.Offset.offset(1e-9));
        assertThatThrownBy(() -> PairedRatio.of(new double[] {1}, new double[] {1, 2}, 0.95))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
