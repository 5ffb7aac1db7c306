package io.quantgate.harness;

import io.quantgate.evaluation.LogitsModel;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

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
}
