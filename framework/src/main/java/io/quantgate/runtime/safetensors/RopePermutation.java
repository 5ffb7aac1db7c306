package io.quantgate.runtime.safetensors;

/**
 * The row permutation between the two RoPE layouts of query/key projections.
 *
 * <p>Meta's Llama (and llama2.c, GGUF {@code llama}) rotates adjacent pairs {@code (x[2i], x[2i+1])} of
 * each head; Hugging Face's Llama code rotates halves {@code (x[i], x[i + headSize/2])} ("rotate_half").
 * To make the two agree, transformers' conversion script reorders the rows of {@code q_proj} and
 * {@code k_proj} within every head with {@code w.view(nHeads, headSize/2, 2, in).transpose(1, 2)
 * .reshape(out, in)}: Meta row {@code 2i + j} of a head becomes Hugging Face row {@code j·headSize/2 + i}
 * ({@code i < headSize/2}, {@code j ∈ {0, 1}}), e.g. for head size 4 the Meta rows {@code 0 1 2 3} are
 * stored as {@code 0 2 1 3}. llama.cpp's {@code convert_hf_to_gguf.py} undoes exactly that for
 * {@code llama}/{@code mistral}; {@link #toInterleaved} is that inverse and {@link #toHuggingFace} the
 * forward step. Both are pure moves of whole rows, so a round trip is bit-exact.
 *
 * <p>Biases ({@code cols = 1}) and the per-head q/k norm weights ({@code nHeads = 1}) of a permuted
 * projection are permuted the same way, because they are indexed by the same output rows.
 */
public final class RopePermutation {
    private RopePermutation() {
    }

    /** Meta (interleaved pairs) row order → Hugging Face (rotate_half) row order. */
    public static float[] toHuggingFace(float[] rows, int nHeads, int headSize, int cols) {
        return permute(rows, nHeads, headSize, cols, true);
    }

    /** Hugging Face (rotate_half) row order → Meta (interleaved pairs) row order. */
    public static float[] toInterleaved(float[] rows, int nHeads, int headSize, int cols) {
        return permute(rows, nHeads, headSize, cols, false);
    }

    /** The Hugging Face row (within a head) that holds Meta row {@code metaRow}. */
    public static int huggingFaceRow(int metaRow, int headSize) {
        int half = headSize / 2;
        return (metaRow % 2) * half + metaRow / 2;
    }

    private static float[] permute(float[] in, int nHeads, int headSize, int cols, boolean toHf) {
        if (nHeads <= 0 || headSize <= 0 || headSize % 2 != 0 || cols <= 0) {
            throw new IllegalArgumentException("cannot permute rows for RoPE: n_heads=" + nHeads + ", head_size="
                    + headSize + " (must be even), cols=" + cols);
        }
        long expected = (long) nHeads * headSize * cols;
        if (in.length != expected) {
            throw new IllegalArgumentException("cannot permute rows for RoPE: " + in.length + " values, but "
                    + nHeads + " heads × " + headSize + " rows × " + cols + " columns = " + expected);
        }
        float[] out = new float[in.length];
        for (int h = 0; h < nHeads; h++) {
            int head = h * headSize;
            for (int meta = 0; meta < headSize; meta++) {
                int hf = huggingFaceRow(meta, headSize);
                int src = (head + (toHf ? meta : hf)) * cols;
                int dst = (head + (toHf ? hf : meta)) * cols;
                System.arraycopy(in, src, out, dst, cols);
            }
        }
        return out;
    }
}
