package io.quantgate.evaluation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PerplexityEvaluatorTest {

    private static final int BOS = 1;

    @ParameterizedTest
    @ValueSource(ints = {4, 5, 16, 33, 512})
    void uniformLogitsGivePplEqualToVocabForAnyCtx(int ctx) {
        int vocab = 37;
        int[] tokens = TestModels.randomStream(4 * ctx - 1, BOS, 2, vocab, 42);
        PerplexityResult r = PerplexityEvaluator.evaluate(TestModels.uniform(vocab), tokens,
                PerplexityOptions.chunked(ctx));
        assertThat(r.ppl()).isCloseTo(vocab, within(1e-9));
        assertThat(r.meanNll()).isCloseTo(Math.log(vocab), within(1e-12));
        assertThat(r.pplStdErr()).isCloseTo(0.0, within(1e-9));
        assertThat(r.chunks()).isEqualTo(3);
        int perChunk = ctx - ctx / 2 - 1;
        assertThat(r.chunkScored()).containsOnly(perChunk);
        assertThat(r.scored()).isEqualTo(3 * perChunk);
        assertThat(r.tokens()).isEqualTo(3 * ctx);
        assertThat(r.streamTokens()).isEqualTo(4 * ctx - 1);
        assertThat(r.tokenNll()).hasSize(r.scored());
    }

    @Test
    void ctx512ScoresExactly255TokensPerChunkInTheSecondHalf() {
        int[] tokens = TestModels.randomStream(2 * 512 + 100, BOS, 2, 50, 7);
        PerplexityResult r = PerplexityEvaluator.evaluate(TestModels.uniform(50), tokens);
        assertThat(r.ctx()).isEqualTo(512);
        assertThat(r.chunks()).isEqualTo(2);
        assertThat(r.chunkScored()).containsExactly(255, 255);
        // llama.cpp: first = n_ctx/2 = 256; logits[256 .. 510] predict tokens[257 .. 511]
        int[] expected = new int[510];
        for (int i = 0; i < 255; i++) {
            expected[i] = 257 + i;
            expected[255 + i] = 512 + 257 + i;
        }
        assertThat(r.tokenPositions()).containsExactly(expected);
    }

    @Test
    void chunkCountIsFloorOrTheCapAndFirstTokenOfEveryChunkIsBos() {
        int ctx = 64;
        int[] tokens = TestModels.randomStream(1000, BOS, 2, 40, 3); // floor(1000/64) = 15
        TestModels.Recording all = TestModels.uniform(40);
        PerplexityResult r = PerplexityEvaluator.evaluate(all, tokens, PerplexityOptions.chunked(ctx));
        assertThat(r.chunks()).isEqualTo(15);
        assertThat(all.inputs).hasSize(15);
        for (int c = 0; c < 15; c++) {
            int[] expected = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            if (c > 0) {
                assertThat(expected[0]).as("stream token at chunk start is not BOS").isNotEqualTo(BOS);
            }
            expected[0] = BOS;
            assertThat(all.inputs.get(c)).as("input of chunk %d", c).containsExactly(expected);
        }

        TestModels.Recording capped = TestModels.uniform(40);
        PerplexityResult r3 = PerplexityEvaluator.evaluate(capped, tokens, PerplexityOptions.chunked(ctx).withChunks(3));
        assertThat(r3.chunks()).isEqualTo(3);
        assertThat(capped.inputs).hasSize(3);
        assertThat(r3.scored()).isEqualTo(3 * 31);

        PerplexityResult big = PerplexityEvaluator.evaluate(TestModels.uniform(40), tokens,
                PerplexityOptions.chunked(ctx).withChunks(100));
        assertThat(big.chunks()).isEqualTo(15);

        PerplexityResult exact = PerplexityEvaluator.evaluate(TestModels.uniform(40), Arrays.copyOf(tokens, 128),
                PerplexityOptions.chunked(ctx));
        assertThat(exact.chunks()).isEqualTo(2);
    }

    /**
     * SPREAD takes chunk ⌊i·all/n⌋ of the text's chunks instead of the first n; with every chunk it is CHUNKED, the
     * same inputs in the same order and a result that says CHUNKED.
     */
    @Test
    void spreadChunksSampleTheWholeText() {
        int ctx = 64;
        int[] tokens = TestModels.randomStream(15 * ctx + 10, BOS, 3, 40, 9);
        TestModels.Recording spread = TestModels.uniform(40);
        PerplexityResult r = PerplexityEvaluator.evaluate(spread, tokens,
                PerplexityOptions.chunked(ctx).withMode(PerplexityOptions.Mode.SPREAD).withChunks(4));
        assertThat(r.chunks()).isEqualTo(4);
        assertThat(r.mode()).isEqualTo(PerplexityOptions.Mode.SPREAD);
        int[] expectedChunks = {0, 3, 7, 11}; // ⌊i·15/4⌋
        for (int i = 0; i < 4; i++) {
            int c = expectedChunks[i];
            int[] expected = Arrays.copyOfRange(tokens, c * ctx, (c + 1) * ctx);
            expected[0] = BOS;
            assertThat(spread.inputs.get(i)).as("input %d is chunk %d", i, c).containsExactly(expected);
        }
        TestModels.Recording everyChunk = TestModels.uniform(40);
        PerplexityResult all = PerplexityEvaluator.evaluate(everyChunk, tokens,
                PerplexityOptions.chunked(ctx).withMode(PerplexityOptions.Mode.SPREAD).withChunks(15));
        TestModels.Recording chunked = TestModels.uniform(40);
        PerplexityResult first = PerplexityEvaluator.evaluate(chunked, tokens, PerplexityOptions.chunked(ctx));
        assertThat(all.mode()).isEqualTo(PerplexityOptions.Mode.CHUNKED);
        assertThat(all.ppl()).isEqualTo(first.ppl());
        for (int i = 0; i < 15; i++) {
            assertThat(everyChunk.inputs.get(i)).containsExactly(chunked.inputs.get(i));
        }
    }

    @Test
    void explicitBosAndKeepFirstToken() {
        int[] tokens = TestModels.randomStream(40, BOS, 2, 20, 5);
        TestModels.Recording m = TestModels.uniform(20);
        PerplexityEvaluator.evaluate(m, tokens, PerplexityOptions.chunked(8).withBosToken(0));
        for (int c = 0; c < 5; c++) {
            assertThat(m.inputs.get(c)[0]).isZero();
            assertThat(m.inputs.get(c)[1]).isEqualTo(tokens[c * 8 + 1]);
        }
        TestModels.Recording keep = TestModels.uniform(20);
        PerplexityEvaluator.evaluate(keep, tokens,
                PerplexityOptions.chunked(8).withBosToken(PerplexityOptions.KEEP_FIRST_TOKEN));
        for (int c = 0; c < 5; c++) {
            assertThat(keep.inputs.get(c)).containsExactly(Arrays.copyOfRange(tokens, c * 8, c * 8 + 8));
        }
    }

    @Test
    void oracleWithProbabilityPGivesPplOneOverP() {
        IntUnaryOperator next = t -> (7 * t + 3) % 10;
        int[] tokens = TestModels.ruleStream(5000, 0, next);
        for (double p : new double[] {0.9, 0.6, 0.25}) {
            TestModels.Oracle oracle = new TestModels.Oracle(10, p, next);
            PerplexityResult r = PerplexityEvaluator.evaluate(oracle, tokens, PerplexityOptions.chunked(128));
            assertThat(r.chunks()).isEqualTo(5000 / 128);
            assertThat(r.ppl()).isCloseTo(1 / oracle.exactP(), within(1e-12));
            assertThat(r.ppl()).isCloseTo(1 / p, within(1e-6 / p));
        }
    }

    @Test
    void stdErrIsTheLlamaCppFormula() {
        // a model with varying confidence so that the NLL has spread
        int vocab = 11;
        SplittableRandom rnd = new SplittableRandom(9);
        float[][] table = new float[vocab][vocab];
        for (float[] row : table) {
            for (int v = 0; v < vocab; v++) {
                row[v] = (float) (3 * rnd.nextDouble());
            }
        }
        LogitsModel m = new TestModels.Recording(vocab) {
            @Override
            float[] row(int[] tokens, int i) {
                return table[tokens[i]].clone();
            }
        };
        int[] tokens = TestModels.randomStream(2000, 0, 0, vocab, 77);
        PerplexityResult r = PerplexityEvaluator.evaluate(m, tokens, PerplexityOptions.chunked(100));
        double[] x = r.tokenNll();
        int n = x.length;
        double s = 0;
        double s2 = 0;
        for (double v : x) {
            s += v;
            s2 += v * v;
        }
        double mean = s / n;
        double llama = r.ppl() * Math.sqrt((s2 / n - mean * mean) / (n - 1));
        assertThat(r.pplStdErr()).isCloseTo(llama, within(1e-9 * r.ppl()));
        assertThat(r.pplStdErr()).isPositive();
        // per-chunk sums add up
        assertThat(Arrays.stream(r.chunkNllSum()).sum() / n).isCloseTo(r.meanNll(), within(1e-12));
        for (int c = 0; c < r.chunks(); c++) {
            assertThat(r.chunkMeanNll()[c]).isCloseTo(r.chunkNllSum()[c] / r.chunkScored()[c], within(1e-15));
        }
    }

    @Test
    void slidingWindowScoresAllOfTheFirstWindowAndTheLastStrideTokensOfOthers() {
        int vocab = 23;
        int[] tokens = TestModels.randomStream(100, BOS, 2, vocab, 11);
        TestModels.Recording m = TestModels.uniform(vocab);
        PerplexityResult r = PerplexityEvaluator.evaluate(m, tokens, PerplexityOptions.sliding(16, 4));
        assertThat(r.chunks()).isEqualTo((100 - 16) / 4 + 1).isEqualTo(22);
        assertThat(r.chunkScored()[0]).isEqualTo(15);
        assertThat(Arrays.copyOfRange(r.chunkScored(), 1, 22)).containsOnly(4);
        assertThat(r.scored()).isEqualTo(15 + 21 * 4);
        int[] expectedPositions = new int[99];
        for (int i = 0; i < 99; i++) {
            expectedPositions[i] = i + 1; // every token from position 1 scored exactly once
        }
        assertThat(r.tokenPositions()).containsExactly(expectedPositions);
        assertThat(r.ppl()).isCloseTo(vocab, within(1e-9));
        assertThat(r.stride()).isEqualTo(4);
        assertThat(m.inputs).hasSize(22);
        for (int wi = 0; wi < 22; wi++) {
            int[] expected = Arrays.copyOfRange(tokens, wi * 4, wi * 4 + 16);
            expected[0] = BOS;
            assertThat(m.inputs.get(wi)).containsExactly(expected);
        }

        PerplexityResult def = PerplexityEvaluator.evaluate(TestModels.uniform(vocab), tokens,
                PerplexityOptions.sliding(16, 0));
        assertThat(def.stride()).isEqualTo(8);
        assertThat(def.chunks()).isEqualTo(11);
        assertThat(def.chunkScored()[0]).isEqualTo(15);
        assertThat(Arrays.copyOfRange(def.chunkScored(), 1, 11)).containsOnly(8);
        assertThat(def.tokenPositions()[def.scored() - 1]).isEqualTo(80 + 15);

        PerplexityResult capped = PerplexityEvaluator.evaluate(TestModels.uniform(vocab), tokens,
                PerplexityOptions.sliding(16, 4).withChunks(5));
        assertThat(capped.chunks()).isEqualTo(5);
        assertThat(capped.scored()).isEqualTo(15 + 4 * 4);
    }

    @Test
    void slidingWindowOracle() {
        IntUnaryOperator next = t -> (3 * t + 5) % 13;
        int[] tokens = TestModels.ruleStream(300, 0, next);
        TestModels.Oracle oracle = new TestModels.Oracle(13, 0.7, next);
        PerplexityResult r = PerplexityEvaluator.evaluate(oracle, tokens, PerplexityOptions.sliding(32, 8));
        assertThat(r.ppl()).isCloseTo(1 / oracle.exactP(), within(1e-12));
    }

    @Test
    void progressIsReportedAfterEveryChunk() {
        List<Progress> seen = new ArrayList<>();
        int[] tokens = TestModels.randomStream(400, BOS, 2, 30, 1);
        PerplexityResult r = PerplexityEvaluator.evaluate(TestModels.uniform(30), tokens,
                PerplexityOptions.chunked(64).withProgress(seen::add));
        assertThat(seen).hasSize(6);
        assertThat(seen).extracting(Progress::chunk).containsExactly(1, 2, 3, 4, 5, 6);
        assertThat(seen).allSatisfy(p -> assertThat(p.chunks()).isEqualTo(6));
        assertThat(seen.get(5).scored()).isEqualTo(r.scored());
        assertThat(seen.get(5).runningPpl()).isCloseTo(r.ppl(), within(1e-9));
        assertThat(seen.get(5).fraction()).isEqualTo(1.0);
        assertThat(r.seconds()).isGreaterThanOrEqualTo(0);
        assertThat(r.tokensPerSecond()).isPositive();
    }

    @Test
    void badArgumentsAreRejectedWithClearMessages() {
        LogitsModel m = TestModels.uniform(10);
        int[] tokens = TestModels.randomStream(100, BOS, 2, 10, 2);
        assertThatThrownBy(() -> PerplexityOptions.chunked(3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ctx must be at least 4");
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(m, tokens, PerplexityOptions.chunked(101)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ctx 101 is larger than the token stream (100 tokens)");
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(m, null, PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokens must not be null");
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(m, new int[0], PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokens must not be empty");
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(null, tokens, PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("model must not be null");
        assertThatThrownBy(() -> PerplexityOptions.sliding(16, 16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stride");
        assertThatThrownBy(() -> PerplexityOptions.chunked(16).withChunks(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("chunks");
        int[] bad = tokens.clone();
        bad[50] = 10;
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(m, bad, PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token 10 at stream position 50 is outside the model's vocabulary [0, 10)");
        LogitsModel shortRows = new LogitsModel() {
            @Override
            public float[][] logits(int[] t) {
                return new float[t.length][5];
            }

            @Override
            public int vocabSize() {
                return 10;
            }
        };
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(shortRows, tokens, PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("expected vocabSize() = 10");
    }

    /** Non-finite logits are an error naming the chunk and the position and pointing at the weights, never a number. */
    @Test
    void nonFiniteLogitsAreAnErrorNamingChunkAndPosition() {
        int ctx = 8;
        int[] tokens = TestModels.randomStream(3 * ctx, BOS, 2, 5, 7);
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> PerplexityEvaluator.evaluate(TestModels.constant(0, 0, bad, 0, 0), tokens,
                    PerplexityOptions.chunked(ctx))).as("logit %s", bad)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("model: chunk 1 of 3, position 4 (token 4 of the text)")
                    .hasMessageContaining(Float.isNaN(bad) ? "logits row contains NaN" : "no finite maximum (Infinity)")
                    .hasMessageContaining("the model's weights are the likely cause");
        }
        // a target of zero probability: -log p = Infinity
        int[] twos = new int[3 * ctx];
        Arrays.fill(twos, 2);
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(
                TestModels.constant(0, 0, Float.NEGATIVE_INFINITY, 0, 0), twos, PerplexityOptions.chunked(ctx)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("chunk 1 of 3, position 4")
                .hasMessageContaining("the target token 2 has logit -Infinity")
                .hasMessageContaining("weights");
        assertThatThrownBy(() -> PerplexityComparison.compare(TestModels.constant(0, 0, Float.NaN, 0, 0),
                TestModels.uniform(5), tokens, PerplexityOptions.chunked(ctx)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("quant model: chunk 1 of 3, position 4");
    }

    /**
     * A model that hands over its logits in place (SegmentLogitsModel, as the native Llama model does) is scored to the
     * same bits as through arrays, and the in-place path keeps the checks: non-finite rows name the chunk and position,
     * a segment of the wrong size is an error that says what was expected.
     */
    @Test
    void logitsHandedOverInPlaceScoreToTheSameBits() {
        int vocab = 7;
        int ctx = 16;
        int[] tokens = TestModels.randomStream(5 * ctx + 3, BOS, 2, vocab, 11);
        TestModels.Recording noisy = new TestModels.Recording(vocab) { // random-looking rows, a function of the input
            @Override
            float[] row(int[] t, int i) {
                SplittableRandom r = new SplittableRandom(31L * i + 7L * t[i] + 1009L * t.length);
                float[] row = new float[vocab];
                for (int j = 0; j < vocab; j++) {
                    row[j] = (float) (r.nextDouble() * 8 - 4);
                }
                return row;
            }
        };
        for (PerplexityOptions o : List.of(PerplexityOptions.chunked(ctx), PerplexityOptions.sliding(ctx, 4))) {
            PerplexityResult arrays = PerplexityEvaluator.evaluate(noisy, tokens, o);
            PerplexityResult inPlace = PerplexityEvaluator.evaluate(TestModels.inPlace(noisy, -1), tokens, o);
            assertThat(inPlace.ppl()).isEqualTo(arrays.ppl());
            assertThat(inPlace.tokenNll()).containsExactly(arrays.tokenNll());
            assertThat(inPlace.tokenPositions()).containsExactly(arrays.tokenPositions());
            assertThat(inPlace.scored()).isEqualTo(arrays.scored()).isPositive();
        }
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(TestModels.inPlace(TestModels.constant(0, 0, Float.NaN, 0, 0),
                -1), TestModels.randomStream(3 * 8, BOS, 2, 5, 7), PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("model: chunk 1 of 3, position 4 (token 4 of the text)")
                .hasMessageContaining("logits row contains NaN");
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(TestModels.inPlace(TestModels.uniform(vocab), 12), tokens,
                PerplexityOptions.chunked(8)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("model returned 12 bytes of logits for rows 4..7, expected 112");
    }

    /**
     * Windows evaluated on concurrent sequences (ConcurrentLogitsModel, as the native Llama model offers) give the
     * sequential loop's bits — every NLL, position, chunk sum and the perplexity — and its progress, in chunk order,
     * though they finish out of order; each sequence is opened, used and closed on one thread. A failure names the
     * lowest failing chunk, as the sequential loop would, and every sequence is still closed; with a concurrency of 1
     * no sequence is opened.
     */
    @Test
    void concurrentSequencesScoreToTheSequentialBitsInChunkOrder() {
        int vocab = 9;
        int ctx = 16;
        int[] tokens = TestModels.randomStream(23 * ctx + 5, BOS, 2, vocab, 5);
        TestModels.Recording noisy = new TestModels.Recording(vocab) {
            @Override
            float[] row(int[] t, int i) {
                SplittableRandom r = new SplittableRandom(17L * i + 5L * t[i] + 3L * t[Math.max(0, i - 1)]);
                float[] row = new float[vocab];
                for (int j = 0; j < vocab; j++) {
                    row[j] = (float) (r.nextDouble() * 10 - 5);
                }
                return row;
            }
        };
        for (PerplexityOptions o : List.of(PerplexityOptions.chunked(ctx), PerplexityOptions.sliding(ctx, 5))) {
            List<Progress> seqProgress = new ArrayList<>();
            PerplexityResult sequential = PerplexityEvaluator.evaluate(noisy, tokens, o.withProgress(seqProgress::add));
            for (int threads : new int[] {2, 3}) {
                TestModels.Concurrent model = TestModels.concurrent(noisy, threads);
                List<Progress> seen = new ArrayList<>();
                PerplexityResult got = PerplexityEvaluator.evaluate(model, tokens, o.withProgress(seen::add));
                assertThat(got.ppl()).isEqualTo(sequential.ppl());
                assertThat(got.pplStdErr()).isEqualTo(sequential.pplStdErr());
                assertThat(got.tokenNll()).containsExactly(sequential.tokenNll());
                assertThat(got.tokenPositions()).containsExactly(sequential.tokenPositions());
                assertThat(got.chunkNllSum()).containsExactly(sequential.chunkNllSum());
                assertThat(got.chunks()).isEqualTo(sequential.chunks()).isGreaterThan(threads);
                assertThat(seen).extracting(Progress::chunk)
                        .containsExactlyElementsOf(seqProgress.stream().map(Progress::chunk).toList());
                assertThat(seen).extracting(Progress::runningPpl)
                        .containsExactlyElementsOf(seqProgress.stream().map(Progress::runningPpl).toList());
                assertThat(model.opened.get()).isEqualTo(threads);
                assertThat(model.closed.get()).isEqualTo(threads);
                assertThat(model.users).hasSize(threads).doesNotContain(Thread.currentThread());
                assertThat(model.wrongThread.get()).isZero();
            }
        }
        // NaN logits in chunk 3 (of 8) only: the same error as the sequential loop's, every sequence closed
        TestModels.Recording nanInChunk3 = new TestModels.Recording(vocab) {
            @Override
            float[] row(int[] t, int i) {
                float[] row = noisy.row(t, i);
                if (Arrays.equals(t, 1, t.length, tokens, 2 * ctx + 1, 3 * ctx)) {
                    row[4] = Float.NaN;
                }
                return row;
            }
        };
        PerplexityOptions eight = PerplexityOptions.chunked(ctx).withChunks(8);
        Throwable sequentialError = catchThrowable(() -> PerplexityEvaluator.evaluate(nanInChunk3, tokens, eight));
        assertThat(sequentialError).isInstanceOf(IllegalStateException.class).hasMessageContaining("chunk 3 of 8");
        TestModels.Concurrent failing = TestModels.concurrent(nanInChunk3, 3);
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(failing, tokens, eight))
                .isInstanceOf(IllegalStateException.class).hasMessage(sequentialError.getMessage());
        assertThat(failing.closed.get()).isEqualTo(failing.opened.get()).isEqualTo(3);
        // a progress listener that fails (an Error, too) ends the evaluation with its failure, every sequence closed
        TestModels.Concurrent listened = TestModels.concurrent(noisy, 3);
        AssertionError stopHere = new AssertionError("listener gives up at chunk 2");
        assertThatThrownBy(() -> PerplexityEvaluator.evaluate(listened, tokens, PerplexityOptions.chunked(ctx)
                .withProgress(p -> {
                    if (p.chunk() == 2) {
                        throw stopHere;
                    }
                }))).isSameAs(stopHere);
        assertThat(listened.closed.get()).isEqualTo(listened.opened.get()).isEqualTo(3);
        assertThat(listened.users).allMatch(t -> !t.isAlive());
        TestModels.Concurrent one = TestModels.concurrent(noisy, 1);
        assertThat(PerplexityEvaluator.evaluate(one, tokens, PerplexityOptions.chunked(ctx)).ppl())
                .isEqualTo(PerplexityEvaluator.evaluate(noisy, tokens, PerplexityOptions.chunked(ctx)).ppl());
        assertThat(one.opened.get()).isZero();
    }
}
