package io.quantgate.runtime.gguf;

import io.quantgate.runtime.model.LlamaConfig.RopeStyle;

/**
 * Reorders the rows of each head of a query/key projection between the two RoPE conventions. Within a
 * head of {@code headSize} rows, interleaved row {@code 2i} is rotate-half row {@code i} and interleaved
 * row {@code 2i+1} is rotate-half row {@code i + headSize/2} (the permutation llama.cpp's converter applies
 * to Hugging Face Llama checkpoints), so the same model computes the same attention under either style.
 */
final class RopeRowOrder {
    private RopeRowOrder() {
    }

    /**
     * @param values {@code rows × cols} row-major, {@code rows} a multiple of {@code headSize} (biases and
     *               q/k norm weights are {@code cols = 1})
     */
    static float[] convert(float[] values, int rows, int cols, int headSize, RopeStyle from, RopeStyle to) {
        if (from == to) {
            return values;
        }
        if (rows % headSize != 0 || (long) rows * cols != values.length) {
            throw new IllegalArgumentException(rows + "×" + cols + " values (" + values.length
                    + ") are not whole heads of " + headSize + " rows");
        }
        float[] out = new float[values.length];
        int half = headSize / 2;
        for (int h = 0; h < rows / headSize; h++) {
            int base = h * headSize;
            for (int i = 0; i < half; i++) {
                int interleavedA = base + 2 * i, interleavedB = base + 2 * i + 1;
                int halfA = base + i, halfB = base + i + half;
                if (to == RopeStyle.INTERLEAVED) {
                    System.arraycopy(values, halfA * cols, out, interleavedA * cols, cols);
                    System.arraycopy(values, halfB * cols, out, interleavedB * cols, cols);
                } else {
                    System.arraycopy(values, interleavedA * cols, out, halfA * cols, cols);
                    System.arraycopy(values, interleavedB * cols, out, halfB * cols, cols);
                }
            }
        }
        return out;
    }
}
