package io.quantgate.runtime.safetensors;

import io.quantgate.runtime.model.LlamaConfig.RopeStyle;
import io.quantgate.runtime.model.Rope;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RopePermutationTest {

    /** A matrix whose row r holds r·100 + column, so each value says which row it came from. */
    private static float[] labelledRows(int rows, int cols) {
        float[] m = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                m[r * cols + c] = r * 100 + c;
            }
        }
        return m;
    }

    private static int[] rowOrder(float[] m, int rows, int cols) {
        int[] order = new int[rows];
        for (int r = 0; r < rows; r++) {
            order[r] = (int) (m[r * cols] / 100);
            for (int c = 0; c < cols; c++) {
                assertThat(m[r * cols + c]).as("row %d moves whole", r).isEqualTo(order[r] * 100 + c);
            }
        }
        return order;
    }

    @Test
    void headSize4ByHand() {
        // HF: w.view(heads, 4/2, 2, in).transpose(1, 2).reshape(out, in). For one head the view indexes Meta
        // row m as [i = m/2][j = m%2]; after the transpose the rows come out in (j, i) order:
        // (0,0)=m0, (0,1)=m2, (1,0)=m1, (1,1)=m3. So HF stores Meta rows 0 2 1 3: the first half of the head
        // holds the first element of every rotary pair, the second half the second element.
        float[] hf = RopePermutation.toHuggingFace(labelledRows(8, 3), 2, 4, 3);
        assertThat(rowOrder(hf, 8, 3)).containsExactly(0, 2, 1, 3, 4, 6, 5, 7);
        // for head size 4 the permutation is its own inverse, so check the direction with head size 8 too:
        // (j, i) order over i < 4 → Meta rows 0 2 4 6 1 3 5 7
        float[] hf8 = RopePermutation.toHuggingFace(labelledRows(8, 2), 1, 8, 2);
        assertThat(rowOrder(hf8, 8, 2)).containsExactly(0, 2, 4, 6, 1, 3, 5, 7);
        // and the inverse: Meta row 2i+j comes from HF row j·4+i → HF rows 0 4 1 5 2 6 3 7
        float[] meta8 = RopePermutation.toInterleaved(labelledRows(8, 2), 1, 8, 2);
        assertThat(rowOrder(meta8, 8, 2)).containsExactly(0, 4, 1, 5, 2, 6, 3, 7);
        for (int m = 0; m < 8; m++) {
            assertThat(RopePermutation.huggingFaceRow(m, 8)).isEqualTo((m % 2) * 4 + m / 2);
        }
    }

    @Test
    void unpermuteAfterPermuteIsIdentityOnRandomMatrices() {
        Random r = new Random(42);
        int[][] cases = {{1, 2, 1}, {4, 8, 16}, {8, 16, 5}, {2, 128, 3}, {3, 6, 7}};
        for (int[] c : cases) {
            float[] w = new float[c[0] * c[1] * c[2]];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) r.nextGaussian();
            }
            float[] hf = RopePermutation.toHuggingFace(w, c[0], c[1], c[2]);
            assertThat(RopePermutation.toInterleaved(hf, c[0], c[1], c[2])).containsExactly(w);
            assertThat(RopePermutation.toHuggingFace(RopePermutation.toInterleaved(w, c[0], c[1], c[2]), c[0], c[1],
                    c[2])).containsExactly(w);
            if (c[1] > 2) {
                assertThat(hf).as("a real permutation for head size %d", c[1]).isNotEqualTo(w);
            }
        }
    }

    @Test
    void interleavedRopeOnMetaRowsEqualsRotateHalfOnHuggingFaceRows() {
        // why the permutation exists: a projection's output in Meta order rotated as adjacent pairs is the HF
        // output rotated as halves, element for element (the same pairs, the same float operations)
        int heads = 3, headSize = 8, seq = 32;
        Rope interleaved = new Rope(headSize, seq, 10000f, RopeStyle.INTERLEAVED);
        Rope rotateHalf = new Rope(headSize, seq, 10000f, RopeStyle.ROTATE_HALF);
        Random r = new Random(3);
        for (int pos : new int[] {0, 1, 7, 31}) {
            float[] meta = new float[heads * headSize];
            for (int i = 0; i < meta.length; i++) {
                meta[i] = (float) r.nextGaussian();
            }
            float[] hf = RopePermutation.toHuggingFace(meta, heads, headSize, 1);
            interleaved.rotate(meta, 0, heads, pos);
            rotateHalf.rotate(hf, 0, heads, pos);
            assertThat(RopePermutation.toHuggingFace(meta, heads, headSize, 1)).containsExactly(hf);
        }
    }

    @Test
    void rejectsSizesThatDoNotFit() {
        assertThatThrownBy(() -> RopePermutation.toInterleaved(new float[10], 2, 4, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10 values");
        assertThatThrownBy(() -> RopePermutation.toInterleaved(new float[6], 2, 3, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be even");
    }
}
