package io.quantgate.runtime.gguf;

import java.util.Arrays;

/**
 * One tensor of a GGUF file as its tensor-info record describes it.
 *
 * @param name       the name stored in the file ({@code blk.0.attn_q.weight})
 * @param ne         ggml dimensions, innermost first: a matrix {@code [rows N, cols K]} is {@code ne = [K, N]}
 * @param type       how the data is encoded
 * @param offset     offset of the data from the start of the data section, as stored
 * @param fileOffset offset of the data from the start of the file
 * @param byteSize   bytes of data
 */
public record GgufTensorInfo(String name, long[] ne, GgmlType type, long offset, long fileOffset, long byteSize) {

    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    public long elements() {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        return n;
    }

    /** Row-major shape, outermost first ({@code ne} reversed): {@code [rows, cols]} for a matrix. */
    public int[] shape() {
        int[] s = new int[ne.length];
        for (int i = 0; i < ne.length; i++) {
            s[i] = Math.toIntExact(ne[ne.length - 1 - i]);
        }
        return s;
    }

    @Override
    public String toString() {
        return name + " " + type + " ne=" + Arrays.toString(ne) + " @" + fileOffset + " (" + byteSize + " bytes)";
    }
}
