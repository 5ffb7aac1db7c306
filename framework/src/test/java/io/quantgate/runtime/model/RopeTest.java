package io.quantgate.runtime.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RopeTest {

    /** headSize 4, theta 100: freq_0 = 1, freq_1 = 100^(-1/2) = 0.1. */
    @Test
    void interleavedRotatesAdjacentPairs() {
        Rope rope = new Rope(4, 8, 100f, LlamaConfig.RopeStyle.INTERLEAVED);
        float[] x = {1, 2, 3, 4};
        rope.rotate(x, 0, 1, 2); // pos 2: angles 2 and 0.2
        double c0 = Math.cos(2), s0 = Math.sin(2), c1 = Math.cos(0.2), s1 = Math.sin(0.2);
        assertThat((double) x[0]).isCloseTo(1 * c0 - 2 * s0, within(1e-6));
        assertThat((double) x[1]).isCloseTo(1 * s0 + 2 * c0, within(1e-6));
        assertThat((double) x[2]).isCloseTo(3 * c1 - 4 * s1, within(1e-6));
        assertThat((double) x[3]).isCloseTo(3 * s1 + 4 * c1, within(1e-6));
    }

    @Test
    void rotateHalfRotatesIAgainstIPlusHalf() {
        Rope rope = new Rope(4, 8, 100f, LlamaConfig.RopeStyle.ROTATE_HALF);
        float[] x = {0, 1, 2, 3, 4, 5, 6, 7, 8}; // one leading pad, then two heads at base 1
        rope.rotate(x, 1, 2, 3); // pos 3: angles 3 and 0.3
        double c0 = Math.cos(3), s0 = Math.sin(3), c1 = Math.cos(0.3), s1 = Math.sin(0.3);
        assertThat(x[0]).isEqualTo(0f);
        // head 0 = (1,2,3,4): pairs (x0,x2)=(1,3) at angle 3, (x1,x3)=(2,4) at angle 0.3
        assertThat((double) x[1]).isCloseTo(1 * c0 - 3 * s0, within(1e-6));
        assertThat((double) x[3]).isCloseTo(1 * s0 + 3 * c0, within(1e-6));
        assertThat((double) x[2]).isCloseTo(2 * c1 - 4 * s1, within(1e-6));
        assertThat((double) x[4]).isCloseTo(2 * s1 + 4 * c1, within(1e-6));
        // head 1 = (5,6,7,8)
        assertThat((double) x[5]).isCloseTo(5 * c0 - 7 * s0, within(1e-6));
        assertThat((double) x[7]).isCloseTo(5 * s0 + 7 * c0, within(1e-6));
        assertThat((double) x[6]).isCloseTo(6 * c1 - 8 * s1, within(1e-6));
        assertThat((double) x[8]).isCloseTo(6 * s1 + 8 * c1, within(1e-6));
    }

    @Test
    void rotateHalfEqualsInterleavedAfterTheHfPermutation() {
        // HF's permute() maps Meta's interleaved order to halves: new[i] = old[2i], new[i+half] = old[2i+1]
        int hs = 8;
        Rope inter = new Rope(hs, 16, 10000f, LlamaConfig.RopeStyle.INTERLEAVED);
        Rope half = new Rope(hs, 16, 10000f, LlamaConfig.RopeStyle.ROTATE_HALF);
        float[] meta = new float[hs];
        for (int i = 0; i < hs; i++) {
            meta[i] = (float) Math.sin(i + 1.3);
        }
        float[] hf = new float[hs];
        for (int i = 0; i < hs / 2; i++) {
            hf[i] = meta[2 * i];
            hf[i + hs / 2] = meta[2 * i + 1];
        }
        inter.rotate(meta, 0, 1, 11);
        half.rotate(hf, 0, 1, 11);
        for (int i = 0; i < hs / 2; i++) {
            assertThat(hf[i]).isEqualTo(meta[2 * i]);
            assertThat(hf[i + hs / 2]).isEqualTo(meta[2 * i + 1]);
        }
    }
}
