package io.quantgate.harness;

import io.quantgate.evaluation.ConcurrentLogitsModel;
import io.quantgate.evaluation.LogitsModel;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CachingLogitsModelTest {

    static final class Counting implements LogitsModel {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public float[][] logits(int[] tokens) {
            calls.incrementAndGet();
            float[][] out = new float[tokens.length][4];
            for (int i = 0; i < tokens.length; i++) {
                out[i][tokens[i] % 4] = i;
            }
            return out;
        }

        @Override
        public int vocabSize() {
            return 4;
        }
    }

    @Test
    void theSameSequenceIsComputedOnceAndAnsweredIdentically() {
        Counting m = new Counting();
        CachingLogitsModel c = new CachingLogitsModel(m, 1 << 20);
        float[][] a = c.logits(new int[] {1, 2, 3}, 1);
        float[][] b = c.logits(new int[] {1, 2, 3}, 1);
        assertThat(m.calls.get()).isEqualTo(1);
        assertThat(b).isDeepEqualTo(a);
        c.logits(new int[] {1, 2, 3}, 0);
        c.logits(new int[] {1, 2, 4}, 1);
        assertThat(m.calls.get()).as("other first row or tokens: computed").isEqualTo(3);
        assertThat(c.hits()).isEqualTo(1);
    }

    @Test
    void beyondTheBudgetAnswersAreRecomputed() {
        Counting m = new Counting();
        CachingLogitsModel c = new CachingLogitsModel(m, 3 * 4 * Float.BYTES); // room for one 3-row answer
        c.logits(new int[] {1, 2, 3});
        c.logits(new int[] {3, 2, 1});
        c.logits(new int[] {1, 2, 3});
        c.logits(new int[] {3, 2, 1});
        assertThat(m.calls.get()).isEqualTo(3);
        assertThat(c.hits()).isEqualTo(1);
    }

    /** {@link Counting} that runs sequences, each counting its calls and opened on the thread that uses it. */
    static final class ConcurrentCounting implements ConcurrentLogitsModel {
        final Counting inner = new Counting();
        final AtomicInteger opened = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();

        @Override
        public int concurrency() {
            return 2;
        }

        @Override
        public Sequence openSequence() {
            opened.incrementAndGet();
            return new Sequence() {
                @Override
                public float[][] logits(int[] tokens) {
                    return inner.logits(tokens);
                }

                @Override
                public int vocabSize() {
                    return 4;
                }

                @Override
                public void close() {
                    closed.incrementAndGet();
                }
            };
        }

        @Override
        public float[][] logits(int[] tokens) {
            return inner.logits(tokens);
        }

        @Override
        public int vocabSize() {
            return 4;
        }
    }

    /**
     * Sequences of a caching model share its cache: an answer cached by the model (or another thread) is a hit, a miss
     * opens a sequence of the cached model on the calling thread (once) and its answer is cached for everyone; a fully
     * cached sequence opens none. A model without sequences keeps the caching model sequential.
     */
    @Test
    void sequencesShareTheCacheAndOpenTheModelsSequenceOnlyOnAMiss() throws Exception {
        ConcurrentCounting m = new ConcurrentCounting();
        CachingLogitsModel c = new CachingLogitsModel(m, 1 << 20);
        assertThat(c.concurrency()).isEqualTo(2);
        float[][] first = c.logits(new int[] {1, 2, 3}, 1);
        float[][][] seen = new float[2][][];
        Thread t = Thread.ofPlatform().start(() -> {
            try (ConcurrentLogitsModel.Sequence s = c.openSequence()) {
                seen[0] = s.logits(new int[] {1, 2, 3}, 1); // cached by the model itself
            }
        });
        t.join();
        assertThat(m.opened.get()).as("a hit opens no sequence").isZero();
        assertThat(seen[0]).isDeepEqualTo(first);
        Thread u = Thread.ofPlatform().start(() -> {
            try (ConcurrentLogitsModel.Sequence s = c.openSequence()) {
                seen[1] = s.logits(new int[] {3, 3, 3}, 0);
                s.logits(new int[] {3, 3, 2}, 0);
            }
        });
        u.join();
        assertThat(m.opened.get()).isEqualTo(1).isEqualTo(m.closed.get());
        assertThat(c.logits(new int[] {3, 3, 3}, 0)).isDeepEqualTo(seen[1]);
        assertThat(m.inner.calls.get()).as("three sequences computed once each").isEqualTo(3);
        assertThat(c.hits()).isEqualTo(2);
        assertThat(c.misses()).isEqualTo(3);

        CachingLogitsModel plain = new CachingLogitsModel(new Counting(), 1 << 20);
        assertThat(plain.concurrency()).isEqualTo(1);
        assertThatThrownBy(plain::openSequence).isInstanceOf(UnsupportedOperationException.class);
    }
}
