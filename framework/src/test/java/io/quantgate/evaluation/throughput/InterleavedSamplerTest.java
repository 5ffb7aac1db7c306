package io.quantgate.evaluation.throughput;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class InterleavedSamplerTest {

    @Test
    void everyRoundRunsEachTrialOnceAndTheOrderRotates() {
        List<String> calls = new ArrayList<>();
        List<InterleavedSampler.Trial> trials = new ArrayList<>();
        for (String n : new String[] {"A", "B", "C"}) {
            trials.add(new InterleavedSampler.Trial() {
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
        InterleavedSampler s = new InterleavedSampler(List.of("A", "B", "C"), trials);
        s.warmup(1);
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
    void aTimeBudgetCutsTheRunButKeepsAtLeastFiveRounds() {
        InterleavedSampler s = new InterleavedSampler(List.of("slow"), List.of(r -> {
            long end = System.nanoTime() + 2_000_000;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
        }));
        int n = s.measure(1000, 0.001, null);
        assertThat(n).isEqualTo(5);
        assertThat(s.budgetCut()).isTrue();
    }
}
