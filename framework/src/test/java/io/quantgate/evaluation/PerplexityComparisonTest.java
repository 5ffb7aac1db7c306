package io.quantgate.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntUnaryOperator;

import org.junit.jupiter.api.Test;

class PerplexityComparisonTest {

    @Test
    void identicalModelsGiveZeroDeltaZeroKldFullAgreementAndADegenerateInterval() {
        IntUnaryOperator next = t -> (7 * t + 3) % 10;
        int[] tokens = TestModels.ruleStream(2000, 0, next);
        // perturb the stream so that the oracle is not always right
        for (int i = 5; i < tokens.length; i += 7) {
            tokens[i] = (tokens[i] + 1) % 10;
        }
        ComparisonResult r = PerplexityComparison.compare(new TestModels.Oracle(10, 0.6, next),
                new TestModels.Oracle(10, 0.6, next), tokens, PerplexityOptions.chunked(64));
        assertThat(r.chunks()).isEqualTo(31);
        assertThat(r.scored()).isEqualTo(31 * 31);
        assertThat(r.pplQuant()).isEqualTo(r.pplBase());
        assertThat(r.delta()).isZero();
        assertThat(r.deltaPercent()).isZero();
        assertThat(r.ratio()).isEqualTo(1.0);
        assertThat(r.meanKld()).isCloseTo(0.0, within(1e-15));
        assertThat(r.kldMax()).isCloseTo(0.0, within(1e-15));
        assertThat(r.sameTopPercent()).isEqualTo(100.0);
        assertThat(r.nllDiff().low()).isZero();
        assertThat(r.nllDiff().high()).isZero();
        assertThat(r.deltaCi().low()).isZero();
        assertThat(r.deltaCi().high()).isZero();
        assertThat(r.ratioCi().low()).isEqualTo(1.0);
        assertThat(r.ratioCi().high()).isEqualTo(1.0);
        assertThat(r.deltaPercentCi().width()).isZero();
        assertThat(r.chunkNllDiff()).containsOnly(0.0);
        assertThat(r.chunkSameTop()).containsOnly(1.0);
        // the two single-model results agree with a plain evaluation
        PerplexityResult plain = PerplexityEvaluator.evaluate(new TestModels.Oracle(10, 0.6, next), tokens,
                PerplexityOptions.chunked(64));
        assertThat(r.base().ppl()).isEqualTo(plain.ppl());
        assertThat(r.quant().tokenNll()).containsExactly(plain.tokenNll());
    }

    @Test
    void kldMatchesAHandComputedThreeTokenExample() {
        // base p = (1/4, 1/4, 1/2), quant p = (1/3, 1/3, 1/3)
        // KL(base||quant) = 2·(1/4)·ln(3/4) + (1/2)·ln(3/2) = (1/2)·ln(9/8)
        LogitsModel base = TestModels.constant(0f, 0f, (float) Math.log(2));
        LogitsModel quant = TestModels.constant(0f, 0f, 0f);
        int[] tokens = new int[40];
        Arrays.fill(tokens, 2);
        tokens[0] = 0; // BOS
        ComparisonResult r = PerplexityComparison.compare(quant, base, tokens, PerplexityOptions.chunked(8));
        double expectedKld = 0.5 * Math.log(9.0 / 8.0);
        assertThat(r.meanKld()).isCloseTo(expectedKld, within(1e-7));
        assertThat(r.tokenKld()).hasSize(5 * 3);
        for (double k : r.tokenKld()) {
            assertThat(k).isCloseTo(expectedKld, within(1e-7));
        }
        assertThat(r.chunkKld()).hasSize(5);
        for (double k : r.chunkKld()) {
            assertThat(k).isCloseTo(expectedKld, within(1e-7));
        }
        assertThat(r.kldMedian()).isCloseTo(expectedKld, within(1e-7));
        assertThat(r.kldP99()).isCloseTo(expectedKld, within(1e-7));
        // every target is token 2: p_base = 1/2, p_quant = 1/3
        assertThat(r.pplBase()).isCloseTo(2.0, within(1e-6));
        assertThat(r.pplQuant()).isCloseTo(3.0, within(1e-12));
        assertThat(r.delta()).isCloseTo(1.0, within(1e-6));
        assertThat(r.deltaPercent()).isCloseTo(50.0, within(1e-4));
        assertThat(r.ratio()).isCloseTo(1.5, within(1e-6));
        // base argmax = 2, quant argmax = 0 (first of equal logits)
        assertThat(r.sameTopPercent()).isZero();
        // every chunk has the same difference: the paired interval collapses onto ln 1.5
        assertThat(r.nllDiff().low()).isCloseTo(Math.log(1.5), within(1e-6));
        assertThat(r.nllDiff().high()).isCloseTo(Math.log(1.5), within(1e-6));
        assertThat(r.ratioCi().low()).isCloseTo(1.5, within(1e-6));
        assertThat(r.deltaCi().high()).isCloseTo(1.0, within(1e-6));

        // reversed direction: KL(quant||base) = ln(1/3 / 1/4)·2/3 + ln(1/3 / 1/2)/3
        ComparisonResult rev = PerplexityComparison.compare(base, quant, tokens, PerplexityOptions.chunked(8));
        double expectedRev = (2.0 / 3) * Math.log(4.0 / 3) + (1.0 / 3) * Math.log(2.0 / 3);
        assertThat(rev.meanKld()).isCloseTo(expectedRev, within(1e-7));
        assertThat(rev.meanKld()).isNotCloseTo(expectedKld, within(1e-3));
    }

    @Test
    void kldOfAPerturbedModelIsPositiveAndMatchesADirectComputation() {
        LogitsModel base = TestModels.chunkDifficulty(12, 0.0, 5);
        LogitsModel quant = TestModels.chunkDifficulty(12, 0.3, 5);
        int[] tokens = TestModels.randomStream(32 * 6, 0, 0, 12, 99);
        ComparisonResult r = PerplexityComparison.compare(quant, base, tokens, PerplexityOptions.chunked(32));
        assertThat(r.meanKld()).isPositive();
        assertThat(r.kldStdErr()).isPositive();
        // direct: recompute token by token with an independent formula Σ p (log p − log q)
        double sum = 0;
        int n = 0;
        for (int c = 0; c < 6; c++) {
            int[] in = Arrays.copyOfRange(tokens, c * 32, c * 32 + 32);
            in[0] = tokens[0];
            float[][] lb = base.logits(in);
            float[][] lq = quant.logits(in);
            for (int j = 16; j <= 30; j++) {
                double[] p = softmax(lb[j]);
                double[] q = softmax(lq[j]);
                double kl = 0;
                for (int v = 0; v < 12; v++) {
                    kl += p[v] * Math.log(p[v] / q[v]);
                }
                assertThat(r.tokenKld()[n]).isCloseTo(kl, within(1e-12));
                sum += kl;
                n++;
            }
        }
        assertThat(n).isEqualTo(r.scored());
        assertThat(r.meanKld()).isCloseTo(sum / n, within(1e-13));
    }

    private static double[] softmax(float[] l) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : l) {
            max = Math.max(max, x);
        }
        double[] p = new double[l.length];
        double s = 0;
        for (int i = 0; i < l.length; i++) {
            p[i] = Math.exp(l[i] - max);
            s += p[i];
        }
        for (int i = 0; i < l.length; i++) {
            p[i] /= s;
        }
        return p;
    }

    @Test
    void pairedIntervalIsMuchNarrowerThanAnUnpairedOneWhenChunksVaryStrongly() {
        int vocab = 16;
        LogitsModel base = TestModels.chunkDifficulty(vocab, 0.0, 21);
        LogitsModel quant = TestModels.chunkDifficulty(vocab, 0.05, 21);
        int[] tokens = TestModels.randomStream(32 * 40, 0, 0, vocab, 4);
        ComparisonResult r = PerplexityComparison.compare(quant, base, tokens, PerplexityOptions.chunked(32));
        assertThat(r.chunks()).isEqualTo(40);
        // the chunks really differ a lot in difficulty
        double sdChunk = Statistics.sd(r.chunkNllBase());
        assertThat(sdChunk).isGreaterThan(10 * Statistics.sd(r.chunkNllDiff()));
        ConfidenceInterval paired = r.nllDiff();
        ConfidenceInterval unpaired = r.nllDiffUnpaired();
        assertThat(paired.estimate()).isCloseTo(unpaired.estimate(), within(1e-12));
        assertThat(paired.width()).isPositive();
        assertThat(paired.width()).isLessThan(unpaired.width() / 5);
        assertThat(paired.contains(paired.estimate())).isTrue();
        // interval over chunk means by hand: t(0.975, 39) · sd(d_c)/√40
        double half = Statistics.tQuantile(0.975, 39) * Statistics.sd(r.chunkNllDiff()) / Math.sqrt(40);
        assertThat(paired.high() - paired.estimate()).isCloseTo(half, within(1e-12));
        assertThat(paired.estimate()).isCloseTo(Statistics.mean(r.chunkNllDiff()), within(1e-12));
        // transformed intervals
        assertThat(r.ratioCi().low()).isCloseTo(Math.exp(paired.low()), within(1e-15));
        assertThat(r.ratioCi().high()).isCloseTo(Math.exp(paired.high()), within(1e-15));
        assertThat(r.ratioCi().contains(r.ratio())).isTrue();
        assertThat(r.deltaCi().contains(r.delta())).isTrue();
        assertThat(r.deltaCi().low()).isCloseTo(r.pplBase() * Math.expm1(paired.low()), within(1e-12));
        assertThat(r.deltaPercentCi().high()).isCloseTo(100 * Math.expm1(paired.high()), within(1e-10));
        assertThat(r.ratio()).isCloseTo(Math.exp(paired.estimate()), within(1e-12));
        assertThat(r.sameTopCi().low()).isBetween(0.0, r.sameTopPercent());
        assertThat(r.kldCi().contains(r.meanKld())).isTrue();
    }

    @Test
    void slidingModeComparisonUsesTheSameWindowsForBothModels() {
        int vocab = 16;
        TestModels.Recording base = TestModels.chunkDifficulty(vocab, 0.0, 8);
        TestModels.Recording quant = TestModels.chunkDifficulty(vocab, 0.1, 8);
        int[] tokens = TestModels.randomStream(200, 0, 0, vocab, 12);
        List<Progress> seen = new ArrayList<>();
        ComparisonResult r = PerplexityComparison.compare(quant, base, tokens,
                PerplexityOptions.sliding(32, 16).withProgress(seen::add));
        assertThat(r.chunks()).isEqualTo((200 - 32) / 16 + 1);
        assertThat(r.chunkScored()[0]).isEqualTo(31);
        assertThat(r.scored()).isEqualTo(31 + (r.chunks() - 1) * 16);
        assertThat(base.inputs).hasSize(r.chunks());
        for (int i = 0; i < r.chunks(); i++) {
            assertThat(quant.inputs.get(i)).containsExactly(base.inputs.get(i));
        }
        assertThat(seen).hasSize(r.chunks());
        Progress last = seen.getLast();
        assertThat(last.runningPpl()).isCloseTo(r.pplQuant(), within(1e-9));
        assertThat(last.runningBasePpl()).isCloseTo(r.pplBase(), within(1e-9));
        assertThat(last.runningKld()).isCloseTo(r.meanKld(), within(1e-12));
        // unequal chunk sizes: the estimate is still the token-weighted difference of means
        assertThat(r.nllDiff().estimate()).isCloseTo(r.quant().meanNll() - r.base().meanNll(), within(1e-15));
    }

    @Test
    void aSingleChunkGivesAnUnboundedInterval() {
        LogitsModel base = TestModels.chunkDifficulty(8, 0.0, 1);
        LogitsModel quant = TestModels.chunkDifficulty(8, 0.2, 1);
        int[] tokens = TestModels.randomStream(40, 0, 0, 8, 1);
        ComparisonResult r = PerplexityComparison.compare(quant, base, tokens, PerplexityOptions.chunked(32));
        assertThat(r.chunks()).isEqualTo(1);
        assertThat(r.deltaCi().low()).isEqualTo(-r.pplBase());
        assertThat(r.deltaCi().high()).isInfinite();
        assertThat(r.ratioCi().low()).isZero();
    }

    @Test
    void badArguments() {
        int[] tokens = TestModels.randomStream(100, 0, 0, 10, 1);
        assertThatThrownBy(() -> PerplexityComparison.compare(TestModels.uniform(10), TestModels.uniform(11), tokens,
                PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("different vocabulary sizes: 10 vs 11");
        assertThatThrownBy(() -> PerplexityComparison.compare(TestModels.uniform(10), TestModels.uniform(10), tokens,
                PerplexityOptions.chunked(200)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("larger than the token stream");
        assertThatThrownBy(() -> PerplexityComparison.compare(TestModels.uniform(10), TestModels.uniform(10),
                new int[0], PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokens must not be empty");
        assertThatThrownBy(() -> PerplexityComparison.compare(TestModels.uniform(10), null, tokens,
                PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("base model must not be null");
    }

    /**
     * Both models offering concurrent sequences: the chunks run on threads (one sequence of each model per thread, the
     * two opened on the same thread) and every figure is the sequential comparison's, bit for bit — per-token NLLs and
     * KLDs, chunk sums, the intervals, the KLD distribution — with the progress in chunk order; a sequential baseline
     * (concurrency 1) keeps the comparison sequential.
     */
    @Test
    void concurrentSequencesGiveTheSequentialComparisonsBits() {
        int vocab = 11;
        int[] tokens = TestModels.randomStream(20 * 32 + 7, 0, 1, vocab, 17);
        TestModels.Recording base = new TestModels.Recording(vocab) {
            @Override
            float[] row(int[] t, int i) {
                java.util.SplittableRandom r = new java.util.SplittableRandom(13L * i + 7L * t[i]);
                float[] row = new float[vocab];
                for (int j = 0; j < vocab; j++) {
                    row[j] = (float) (r.nextDouble() * 6 - 3);
                }
                return row;
            }
        };
        TestModels.Recording quant = new TestModels.Recording(vocab) {
            @Override
            float[] row(int[] t, int i) {
                float[] row = base.row(t, i);
                for (int j = 0; j < vocab; j++) {
                    row[j] += (float) (0.2 * Math.sin(31 * i + 7 * j + t[i]));
                }
                return row;
            }
        };
        for (PerplexityOptions o : List.of(PerplexityOptions.chunked(32), PerplexityOptions.sliding(32, 12))) {
            List<Progress> seqProgress = new ArrayList<>();
            ComparisonResult seq = PerplexityComparison.compare(quant, base, tokens, o.withProgress(seqProgress::add));
            TestModels.Concurrent cq = TestModels.concurrentArrays(quant, 3);
            TestModels.Concurrent cb = TestModels.concurrentArrays(base, 3);
            List<Progress> seen = new ArrayList<>();
            ComparisonResult got = PerplexityComparison.compare(cq, cb, tokens, o.withProgress(seen::add));
            assertThat(got.pplQuant()).isEqualTo(seq.pplQuant());
            assertThat(got.pplBase()).isEqualTo(seq.pplBase());
            assertThat(got.quant().tokenNll()).containsExactly(seq.quant().tokenNll());
            assertThat(got.base().tokenNll()).containsExactly(seq.base().tokenNll());
            assertThat(got.quant().tokenPositions()).containsExactly(seq.quant().tokenPositions());
            assertThat(got.tokenKld()).containsExactly(seq.tokenKld());
            assertThat(got.chunkNllDiff()).containsExactly(seq.chunkNllDiff());
            assertThat(got.chunkSameTop()).containsExactly(seq.chunkSameTop());
            assertThat(got.nllDiff()).isEqualTo(seq.nllDiff());
            assertThat(got.kldCi()).isEqualTo(seq.kldCi());
            assertThat(got.sameTopCi()).isEqualTo(seq.sameTopCi());
            assertThat(got.kldDistribution()).isEqualTo(seq.kldDistribution());
            assertThat(got.meanKld()).isPositive();
            assertThat(seen).extracting(Progress::chunk)
                    .containsExactlyElementsOf(seqProgress.stream().map(Progress::chunk).toList());
            assertThat(seen).extracting(Progress::runningKld)
                    .containsExactlyElementsOf(seqProgress.stream().map(Progress::runningKld).toList());
            assertThat(cq.opened.get()).isEqualTo(3).isEqualTo(cq.closed.get());
            assertThat(cb.opened.get()).isEqualTo(3).isEqualTo(cb.closed.get());
            assertThat(cq.users).isEqualTo(cb.users).hasSize(3);
            assertThat(cq.wrongThread.get() + cb.wrongThread.get()).isZero();
        }
        TestModels.Concurrent cq = TestModels.concurrentArrays(quant, 3);
        ComparisonResult oneSided = PerplexityComparison.compare(cq, TestModels.concurrentArrays(base, 1), tokens,
                PerplexityOptions.chunked(32));
        assertThat(cq.opened.get()).isZero();
        assertThat(oneSided.pplQuant()).isEqualTo(PerplexityComparison.compare(quant, base, tokens,
                PerplexityOptions.chunked(32)).pplQuant());
    }
}
