package io.quantgate.quantize;

import io.quantgate.kernels.format.ConfigId;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A randomized block Hadamard rotation along K, {@code R = diag(blocks)} with each block
 * {@code (1/√m)·H_m·diag(±1)}: orthogonal, so {@code y = W·x = (W·Rᵀ)·(R·x)} — the weights are rotated before they
 * are quantized and the activations online, and an unquantized model computes the same logits.
 *
 * <p>The blocks follow the quantization groups (as MR-GPTQ does for microscaling FP4): a rotation inside a group
 * spreads an outlier over the group that shares its scale, and never mixes two groups' ranges. Blocks are powers of
 * two (the Walsh–Hadamard transform's sizes): the largest power of two not above the id's group (128 for ids without
 * groups), and a short tail (K not a multiple of it) is split into descending powers of two. The signs come from a
 * fixed seed and K, so every tensor with the same K gets the same rotation and linears that share an input (q, k, v;
 * gate, up) can share one rotated copy of it.
 *
 * <p>Applying {@code R} to a row is the same operation for a weight row ({@code (W·Rᵀ)_r = R·w_r}) and an
 * activation row, which is why there is one {@link #rotate(float[], int)}.
 */
public final class BlockHadamard {
    /** The seed of the signs, fixed so that a rotated model is reproducible everywhere. */
    public static final long SEED = 0x5EED_4AD4L;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final int k;
    private final int[] blockStart;
    private final int[] blockSize;
    private final float[] signs;

    public BlockHadamard(int k, int block) {
        if (k < 1 || block < 1) {
            throw new IllegalArgumentException("rotation of " + k + " values in blocks of " + block);
        }
        this.k = k;
        int b = Integer.highestOneBit(block);
        List<int[]> blocks = new ArrayList<>();
        int at = 0;
        while (at + b <= k) {
            blocks.add(new int[] {at, b});
            at += b;
        }
        for (int rest = k - at; rest > 0; rest = k - at) {
            int m = Integer.highestOneBit(rest);
            blocks.add(new int[] {at, m});
            at += m;
        }
        blockStart = blocks.stream().mapToInt(x -> x[0]).toArray();
        blockSize = blocks.stream().mapToInt(x -> x[1]).toArray();
        signs = new float[k];
        SplittableRandom rnd = new SplittableRandom(SEED ^ (0x9E3779B97F4A7C15L * k));
        for (int i = 0; i < k; i++) {
            signs[i] = rnd.nextBoolean() ? 1f : -1f;
        }
    }

    /** The rotation a tensor of {@code k} inputs under {@code id} gets: blocks of the id's group (128 without one). */
    public static BlockHadamard forId(ConfigId id, int k) {
        int g = id.format().isDense() || id.group() == 0 ? Math.min(128, k) : id.effectiveGroup(k);
        return new BlockHadamard(k, g);
    }

    public int size() {
        return k;
    }

    /** The block sizes, in order along K. */
    public int[] blocks() {
        return blockSize.clone();
    }

    /** {@code x[off .. off+k) ← R·x[off .. off+k)}. */
    public void rotate(float[] x, int off) {
        for (int i = 0; i < k; i++) {
            x[off + i] *= signs[i];
        }
        for (int b = 0; b < blockStart.length; b++) {
            fwht(x, off + blockStart[b], blockSize[b]);
        }
    }

    /** {@code x[off .. off+k) ← R·x[off .. off+k)} in double (for Hessians). */
    public void rotate(double[] x, int off, int stride) {
        for (int i = 0; i < k; i++) {
            x[off + i * stride] *= signs[i];
        }
        for (int b = 0; b < blockStart.length; b++) {
            fwht(x, off + blockStart[b] * stride, blockSize[b], stride);
        }
    }

    /** Every row of a row-major {@code [n][k]} matrix: {@code W ← W·Rᵀ}. */
    public void rotateRows(float[] w, int n) {
        for (int r = 0; r < n; r++) {
            rotate(w, r * k);
        }
    }

    /** {@code T} rows of {@code k} floats in a segment, {@code stride} floats apart: the activations, online. */
    public void rotateRows(MemorySegment x, int rows, long stride, float[] scratch) {
        for (int t = 0; t < rows; t++) {
            long off = 4L * t * stride;
            MemorySegment.copy(x, F, off, scratch, 0, k);
            rotate(scratch, 0);
            MemorySegment.copy(scratch, 0, x, F, off, k);
        }
    }

    /** {@code H ← R·H·Rᵀ} for a symmetric {@code [k][k]} matrix (the Hessian of rotated inputs). */
    public void conjugate(double[] h) {
        for (int c = 0; c < k; c++) {
            rotate(h, c, k);       // every column: R·H
        }
        for (int r = 0; r < k; r++) {
            rotate(h, r * k, 1);   // every row: (R·H)·Rᵀ
        }
    }

    /** In-place normalized Walsh–Hadamard transform of {@code m} (a power of two) values. */
    private static void fwht(float[] x, int off, int m) {
        for (int h = 1; h < m; h <<= 1) {
            for (int i = 0; i < m; i += h << 1) {
                for (int j = off + i; j < off + i + h; j++) {
                    float a = x[j];
                    float b = x[j + h];
                    x[j] = a + b;
                    x[j + h] = a - b;
                }
            }
        }
        float norm = (float) (1.0 / Math.sqrt(m));
        for (int i = off; i < off + m; i++) {
            x[i] *= norm;
        }
    }

    private static void fwht(double[] x, int off, int m, int stride) {
        for (int h = 1; h < m; h <<= 1) {
            for (int i = 0; i < m; i += h << 1) {
                for (int j = i; j < i + h; j++) {
                    int p = off + j * stride;
                    int q = off + (j + h) * stride;
                    double a = x[p];
                    double b = x[q];
                    x[p] = a + b;
                    x[q] = a - b;
                }
            }
        }
        double norm = 1.0 / Math.sqrt(m);
        for (int i = 0; i < m; i++) {
            x[off + i * stride] *= norm;
        }
    }
}
