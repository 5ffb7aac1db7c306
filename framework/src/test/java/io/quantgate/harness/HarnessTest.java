package io.quantgate.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.NativeLinearKernel;
import io.quantgate.kernel.PreparedLinear;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.results.model.ThroughputRow;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.SyntheticWeights;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The one harness: the interleaved loop, plans over engines and kernels, pairing, re-measuring, failures. */
class HarnessTest {

    @Test
    void everyRoundRunsEachTrialOnceAndTheOrderRotates() {
        List<String> calls = new ArrayList<>();
        List<Trial> trials = new ArrayList<>();
        for (String n : new String[] {"A", "B", "C"}) {
            trials.add(new Trial() {
                @Override
                public void prepare(int round) {
                    calls.add("prep" + n + round);
                }

                @Override
                public void run(int round) {
                    calls.add(n + round);
                }
            });
        }
        Interleaved s = new Interleaved(trials, 0);
        s.warmup(1, 60);
        assertThat(s.measure(3, 60, null)).isEqualTo(3);
        List<String> runs = calls.stream().filter(c -> !c.startsWith("prep")).toList();
        assertThat(runs).containsExactly("A0", "B0", "C0", "B1", "C1", "A1", "C2", "A2", "B2", "A3", "B3", "C3");
        assertThat(calls.subList(0, 2)).containsExactly("prepA0", "A0");
        assertThat(s.rounds()).isEqualTo(3);
        assertThat(s.warmupRounds()).isEqualTo(1);
        assertThat(s.seconds(0)).hasSize(3);
        assertThat(java.util.Arrays.stream(s.seconds(0)).allMatch(x -> x > 0)).isTrue();
        // measuring again appends rounds
        s.measure(20, 60, null);
        assertThat(s.seconds(2)).hasSize(23);
    }

    @Test
    void aBracketEnclosesEverySampleOfTheTrialsItIsGivenAndIsKeptBesideThem() {
        List<String> calls = new ArrayList<>();
        List<Trial> trials = new ArrayList<>();
        for (String n : new String[] {"A", "B"}) {
            trials.add(r -> calls.add(n + r));
        }
        Trial probe = r -> {
            calls.add("P" + r);
            long until = System.nanoTime() + 200_000; // a read that takes measurable time
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
        };
        Interleaved s = new Interleaved(trials, 0, 0, probe, new boolean[] {true, false});
        s.warmup(1, 60);
        assertThat(s.measure(2, 60, null)).isEqualTo(2);
        // A is enclosed in measured rounds (the warmup round reads no probe; the probe's reads are numbered in their own
        // sequence), B is not; the order rotates
        assertThat(calls).containsExactly("A0", "B0", "B1", "P0", "A1", "P1", "P2", "A2", "P3", "B2");
        assertThat(s.bracketed(0)).isTrue();
        assertThat(s.bracketed(1)).isFalse();
        assertThat(s.bracketBefore(0)).hasSize(2);
        assertThat(java.util.Arrays.stream(s.bracketBefore(0)).allMatch(x -> x >= 200e-6)).isTrue();
        assertThat(java.util.Arrays.stream(s.bracketAfter(0)).allMatch(x -> x >= 200e-6)).isTrue();
        assertThat(s.bracketAfter(0)).hasSize(2);
        assertThat(java.util.Arrays.stream(s.bracketBefore(1)).allMatch(Double::isNaN)).isTrue();
        // with several calls per sample, the first read precedes the untimed lead-in call (which warms what the
        // timed calls use) and the second follows the last timed call
        calls.clear();
        List<Trial> quick = List.of(r -> calls.add("Q" + r));
        Interleaved several = new Interleaved(quick, 0, 5, probe, new boolean[] {true});
        several.measure(2, 60, null);
        int per = several.callsPerSample(0);
        assertThat(per).isGreaterThan(1);
        List<String> round = calls.subList(calls.size() - (per + 3), calls.size());
        assertThat(round.getFirst()).startsWith("P");
        assertThat(round.get(1)).startsWith("Q");
        assertThat(round.getLast()).startsWith("P");
        assertThat(round.subList(1, per + 2)).allMatch(c -> c.startsWith("Q"));
        assertThatThrownBy(() -> new Interleaved(trials, 0, 0, probe, new boolean[] {true}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one flag per trial");
    }

    @Test
    void aTimeBudgetCutsTheRunButKeepsAtLeastFiveRounds() {
        Interleaved s = new Interleaved(List.of(r -> {
            long end = System.nanoTime() + 2_000_000;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
        }), 0);
        int n = s.measure(1000, 0.001, null);
        assertThat(n).isEqualTo(5);
        assertThat(s.budgetCut()).isTrue();
    }

    /**
     * An engine whose calls take {@code prefillMs} / {@code decodeMs} of wall time while it claims nothing: the
     * harness times the calls itself. Counts resets, which must happen before every timed call.
     */
    static final class SleepyBackend implements Backend {
        final String name;
        final long prefillMs;
        final long decodeMs;
        final AtomicInteger resets = new AtomicInteger();
        final AtomicInteger calls = new AtomicInteger();
        volatile int failAfter = Integer.MAX_VALUE;

        SleepyBackend(String name, long prefillMs, long decodeMs) {
            this.name = name;
            this.prefillMs = prefillMs;
            this.decodeMs = decodeMs;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String description() {
            return "a test engine that sleeps";
        }

        @Override
        public Optional<String> unavailableReason() {
            return Optional.empty();
        }

        @Override
        public RunPlan plan(ModelWeights weights, QuantizationConfig config) {
            return RunPlan.runs(name, config.label(), name + " sleeps " + prefillMs + "/" + decodeMs + " ms", "none");
        }

        @Override
        public BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
            RunPlan plan = plan(weights, config);
            return new BackendModel() {
                @Override
                public RunPlan plan() {
                    return plan;
                }

                @Override
                public int contextLength() {
                    return options.contextLength();
                }

                @Override
                public int vocabSize() {
                    return weights.config().vocabSize();
                }

                @Override
                public Optional<LogitsModel> logits() {
                    return Optional.empty();
                }

                @Override
                public void reset() {
                    resets.incrementAndGet();
                }

                @Override
                public void prefill(int[] prompt) {
                    sleep(prefillMs);
                }

                @Override
                public void decode(int[] tokens) {
                    sleep(decodeMs);
                }

                @Override
                public void close() {
                }
            };
        }

        private void sleep(long ms) {
            if (calls.incrementAndGet() > failAfter) {
                throw new IllegalStateException("engine crashed");
            }
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void modelRowsTimeTheCallsThemselvesAndPairThemPerRound() {
        SleepyBackend fast = new SleepyBackend("fast", 10, 30);
        SleepyBackend slow = new SleepyBackend("slow", 20, 30);
        Sampling sampling = new Sampling(1, 6, 60, 3);
        try (ModelWeights w = SyntheticWeights.of("synthetic:tiny");
             ModelPool pool = new ModelPool(w, BackendOptions.defaults(), 16, 0,
                     n -> n.equals("fast") ? fast : slow);
             Harness h = new Harness(new MemorySizing(1 << 20, 8 << 20), null)) {
            QuantizationConfig fp16 = QuantizationConfig.parse("fp16");
            Subject ref = Subject.model("slow", fp16, ActivationMode.FP32);
            Subject sub = Subject.model("fast", fp16, ActivationMode.FP32);
            ThroughputRow row = h.throughput(ThroughputPlan.against(new Workload.Prefill(8), ref, List.of(sub), sampling),
                    pool, Harness.RemeasurePolicy.NEVER).rows().getFirst();
            assertThat(row.rounds()).isEqualTo(6);
            assertThat(row.label()).isEqualTo("pp8");
            assertThat(row.subject()).isEqualTo("fp16 (fp32 activations) on fast");
            assertThat(row.referenceSubject()).isEqualTo("fp16 (fp32 activations) on slow");
            // 10 ms against 20 ms: the paired ratio is about 2 (sleeps overshoot a little, never undershoot)
            assertThat(row.speedup().median()).isBetween(1.4, 2.2);
            assertThat(row.speedupCi().contains(row.speedup().median())).isTrue();
            assertThat(row.medianRate()).isBetween(8 / 0.015, 8 / 0.0099);
            // every timed call (warmup included) follows an untimed reset
            assertThat(fast.resets.get()).isEqualTo(7);
            assertThat(slow.resets.get()).isEqualTo(7);
            // bytes: the weights as QuantGate packs them, from the shape alone
            ModelCost cost = ModelCost.of(w.config(), fp16);
            assertThat(row.bytesPerCall()).isEqualTo((double) cost.weightBytesPerToken());
            // the probe around each sample: one bandwidth per round, paired with that round's call
            assertThat(row.samples().probeGbs()).hasSize(6);
            assertThat(java.util.Arrays.stream(row.samples().probeGbs()).allMatch(g -> g > 0 && Double.isFinite(g))).isTrue();
            assertThat(row.probeGbs().median()).isPositive();
        }
    }

    @Test
    void aPolicyAddsRoundsToTheSameRowsAndAFailingSubjectIsNamed() {
        SleepyBackend a = new SleepyBackend("a", 1, 2);
        SleepyBackend b = new SleepyBackend("b", 1, 2);
        try (ModelWeights w = SyntheticWeights.of("synthetic:tiny");
             ModelPool pool = new ModelPool(w, BackendOptions.defaults(), 16, 0, n -> n.equals("a") ? a : b);
             Harness h = new Harness(new MemorySizing(1 << 20, 8 << 20), null)) {
            QuantizationConfig c = QuantizationConfig.parse("int8");
            ThroughputPlan plan = ThroughputPlan.against(new Workload.Decode(4), Subject.model("a", c,
                    ActivationMode.INT8), List.of(Subject.model("b", c, ActivationMode.INT8)), new Sampling(0, 3, 60, 2));
            List<Integer> seen = new ArrayList<>();
            var m = h.throughput(plan, pool, (rows, rounds) -> {
                seen.add(rounds);
                return rounds < 7 ? 2 : 0;
            });
            assertThat(seen).containsExactly(3, 5, 7);
            assertThat(m.remeasures()).isEqualTo(2);
            assertThat(m.rows().getFirst().rounds()).isEqualTo(7);
            assertThat(m.rows().getFirst().samples().speedups()).hasSize(7);
            b.failAfter = b.calls.get() + 2;
            assertThatThrownBy(() -> h.throughput(plan, pool, Harness.RemeasurePolicy.NEVER))
                    .isInstanceOfSatisfying(ThroughputRun.SubjectFailedException.class, e -> {
                        assertThat(e.index()).isEqualTo(1);
                        assertThat(e).hasMessageContaining("int8 (int8 activations) on b failed: engine crashed");
                    });
        }
    }

    /** The native kernel, counting what it prepares and noting each matrix's first code bytes. */
    static final class CountingKernel implements LinearKernel {
        final String name;
        final List<Long> firstWords = Collections.synchronizedList(new ArrayList<>());
        final List<Long> bytes = Collections.synchronizedList(new ArrayList<>());

        CountingKernel(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String description() {
            return "counting " + name;
        }

        @Override
        public Optional<String> cannotRun(ConfigId config, ActivationMode activations, int n, int k) {
            return config.format().name().equals("BF16") ? Optional.of("no bf16 here") : Optional.empty();
        }

        @Override
        public PreparedLinear prepare(QuantizedMatrix weights, ActivationMode activations) {
            firstWords.add(weights.codes().get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            bytes.add(weights.packedBytes());
            return new NativeLinearKernel().prepare(weights, activations);
        }
    }

    @Test
    void kernelSubjectsRotateOverAWorkingSetOfTheVerySameWeights() {
        CountingKernel a = new CountingKernel("a");
        CountingKernel b = new CountingKernel("b");
        long workingSet = 3L << 20;
        ConfigId id = ConfigId.parse("int4-g64");
        try (Harness h = new Harness(new MemorySizing(workingSet, 8 << 20), null, n -> n.equals("a") ? a : b)) {
            List<ThroughputRow> rows = h.throughput(ThroughputPlan.against(new Workload.Kernel(256, 512, 3),
                    Subject.kernel("a", id, ActivationMode.INT8), List.of(Subject.kernel("b", id, ActivationMode.INT8)),
                    new Sampling(0, 4, 60, 2)), null, Harness.RemeasurePolicy.NEVER).rows();
            long one = QuantizedMatrix.packedBytes(id, 256, 512);
            assertThat(a.bytes).allMatch(x -> x == one);
            assertThat(a.bytes.size() * one).as("copies cover the working set").isGreaterThanOrEqualTo(workingSet);
            assertThat(a.bytes.size()).isGreaterThanOrEqualTo(2);
            // two kernels compared on one config compute on identical matrices, each in its own memory
            assertThat(b.firstWords).isEqualTo(a.firstWords);
            assertThat(new java.util.HashSet<>(a.firstWords)).as("the copies differ from each other").hasSizeGreaterThan(1);
            ThroughputRow row = rows.getFirst();
            assertThat(row.gflops()).isPositive();
            assertThat(row.bytesPerCall()).isEqualTo((double) one);
            assertThat(row.batch()).isEqualTo(3);
            assertThatThrownBy(() -> h.throughput(ThroughputPlan.alone(new Workload.Kernel(64, 64, 1),
                    List.of(Subject.kernel("a", ConfigId.parse("bf16"), ActivationMode.FP32)), new Sampling(0, 2, 60, 2)),
                    null, Harness.RemeasurePolicy.NEVER))
                    .hasMessageContaining("kernel 'a' cannot run bf16 at 64x64: no bf16 here");
        }
    }

    @Test
    void plansRefuseSubjectsOfTheWrongKind() {
        Sampling s = new Sampling(0, 2, 60, 2);
        Subject engine = Subject.model("native", QuantizationConfig.parse("fp16"), ActivationMode.FP32);
        assertThatThrownBy(() -> ThroughputPlan.alone(new Workload.Kernel(8, 8, 1), List.of(engine), s))
                .hasMessageContaining("8x8 M=1 is a kernel workload").hasMessageContaining("whole-model subject");
        assertThatThrownBy(() -> new Subject(null, null, engine.config(), ActivationMode.FP32))
                .hasMessageContaining("a backend, a kernel, or a backend on a kernel");
        Subject onKernel = Subject.model("native", "java-vector", engine.config(), ActivationMode.FP32);
        assertThat(onKernel.isKernel()).as("an engine running its linears on a kernel is a whole-model subject").isFalse();
        assertThatThrownBy(() -> ThroughputPlan.alone(new Workload.Kernel(8, 8, 1), List.of(onKernel), s))
                .hasMessageContaining("whole-model subject");
        assertThatThrownBy(() -> new Subject(null, "native", QuantizationConfig.parse("mixed:attn.*=int8"),
                ActivationMode.FP32)).hasMessageContaining("is not a uniform id");
    }

    @Test
    void modelCostMatchesWhatTheNativeEngineReads() {
        try (ModelWeights w = SyntheticWeights.of("synthetic:tiny")) {
            for (String c : List.of("fp32", "fp16", "int8", "int4-g64", "fp4-g128", "mixed:attn.*=fp4-g32,mlp.*=int8")) {
                QuantizationConfig q = QuantizationConfig.parse(c);
                ModelCost cost = ModelCost.of(w.config(), q);
                try (var m = new io.quantgate.runtime.model.LlamaModel(w, q, ActivationMode.FP32, 8)) {
                    assertThat(cost.weightBytesPerToken()).as(c).isEqualTo(m.weightBytesPerToken());
                    assertThat(cost.compressionRatio()).as(c).isEqualTo(m.compressionRatio());
                    assertThat(cost.kvBytesRead(5)).isEqualTo(m.kvBytesRead(5));
                }
            }
        }
    }
}
