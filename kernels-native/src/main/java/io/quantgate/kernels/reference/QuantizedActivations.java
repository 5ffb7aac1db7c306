package io.quantgate.kernels.reference;

/**
 * Activations quantized for the int8 path: one fp32 scale per block of 32 K values of a row.
 *
 * @param m      activation rows
 * @param k      values per row
 * @param q      int8 codes {@code [m][k]}, row-major
 * @param scales {@code [m][ceil(k/32)]}; NaN for a block that held a non-finite value
 */
public record QuantizedActivations(int m, int k, byte[] q, float[] scales) {
    /** Blocks per activation row. */
    public int blocksPerRow() {
        return (k + ActivationQuantizer.BLOCK - 1) / ActivationQuantizer.BLOCK;
    }

    public float scale(int row, int block) {
        return scales[row * blocksPerRow() + block];
    }
}
