package io.quantgate.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import io.quantgate.kernels.format.ConfigId;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BlockHadamardTest {

    @Test
    void blocksFollowTheGroupAndSplitTheTail() {
        assertThat(new BlockHadamard(172, 64).blocks()).containsExactly(64, 64, 32, 8, 4);
        assertThat(BlockHadamard.forId(ConfigId.parse("fp4-g128"), 64).blocks()).containsExactly(64); // group clamped to K
        assertThat(BlockHadamard.forId(ConfigId.parse("fp4-g256"), 172).blocks()).containsExactly(128, 32, 8, 4);
        assertThat(BlockHadamard.forId(ConfigId.parse("fp32"), 300).blocks()).containsExactly(128, 128, 32, 8, 4);
        assertThat(new BlockHadamard(5, 32).blocks()).containsExactly(4, 1);
    }

    /** Orthogonal: rotating preserves every dot product (so W·x = (W·Rᵀ)·(R·x)), and R·Rᵀ = I. */
    @Test
    void isOrthogonal() {
        for (int k : new int[] {1, 7, 64, 172, 300}) {
            BlockHadamard r = new BlockHadamard(k, 64);
            Random rnd = new Random(k);
            float[] a = new float[k];
            float[] b = new float[k];
            for (int i = 0; i < k; i++) {
                a[i] = (float) rnd.nextGaussian();
                b[i] = (float) rnd.nextGaussian();
            }
            double dot = 0;
            for (int i = 0; i < k; i++) {
                dot += (double) a[i] * b[i];
            }
            r.rotate(a, 0);
            r.rotate(b, 0);
            double rotated = 0;
            for (int i = 0; i < k; i++) {
                rotated += (double) a[i] * b[i];
            }
            assertThat(rotated).as("k=%d", k).isCloseTo(dot, org.assertj.core.data.Offset.offset(1e-4 * Math.sqrt(k)));
            // columns of R: rotated unit vectors are orthonormal
            double[][] cols = new double[k][];
            for (int j = 0; j < k; j++) {
                float[] e = new float[k];
                e[j] = 1;
                r.rotate(e, 0);
                cols[j] = new double[k];
                for (int i = 0; i < k; i++) {
                    cols[j][i] = e[i];
                }
            }
            for (int p = 0; p < k; p += Math.max(1, k / 13)) {
                for (int q = 0; q < k; q += Math.max(1, k / 11)) {
                    double s = 0;
                    for (int i = 0; i < k; i++) {
                        s += cols[p][i] * cols[q][i];
                    }
                    assertThat(s).isCloseTo(p == q ? 1 : 0, org.assertj.core.data.Offset.offset(1e-6));
                }
            }
        }
    }

    /** {@code conjugate} is R·H·Rᵀ: the Gram matrix of rotated inputs equals the rotated Gram matrix. */
    @Test
    void conjugateIsTheGramOfRotatedInputs() {
        int k = 44;
        BlockHadamard r = new BlockHadamard(k, 32);
        double[][] x = GptqTest.correlatedInputs(50, k, 4);
        Gram plain = new Gram(k);
        plain.add(x);
        double[][] rx = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            rx[t] = x[t].clone();
            r.rotate(rx[t], 0, 1);
        }
        Gram rotated = new Gram(k);
        rotated.add(rx);
        double[] h = plain.hessian();
        r.conjugate(h);
        double[] expected = rotated.hessian();
        for (int i = 0; i < k * k; i++) {
            assertThat(h[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-9 * (1 + Math.abs(expected[i]))));
        }
    }
}
