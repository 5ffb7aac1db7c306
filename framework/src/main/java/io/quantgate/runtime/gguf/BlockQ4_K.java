package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.Fp16;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ggml's {@code block_q4_K}, a super-block of 256 values in 8 sub-blocks of 32 (144 bytes):
 * <pre>
 *   fp16 d, fp16 dmin         super-scales of the sub-block scales and of the sub-block mins
 *   uint8 scales[12]          eight 6-bit scales sc[j] and eight 6-bit mins m[j], packed:
 *                             j &lt; 4:  sc[j] = scales[j] &amp; 63,  m[j] = scales[j+4] &amp; 63
 *                             j ≥ 4:  sc[j] = (scales[j+4] &amp; 0xF) | (scales[j−4] &gt;&gt; 6) &lt;&lt; 4
 *                                     m[j]  = (scales[j+4] &gt;&gt; 4)  | (scales[j]   &gt;&gt; 6) &lt;&lt; 4
 *   uint8 qs[128]             4-bit codes: each 64 values use 32 bytes, the first 32 values (sub-block
 *                             2c) in the low nibbles, the next 32 (sub-block 2c+1) in the high nibbles
 * </pre>
 * value = {@code (d·sc) · q − (dmin·m)}, each product rounded to fp32 as ggml's {@code dequantize_row_q4_K}.
 */
public final class BlockQ4_K {
    public static final int VALUES = 256;
    public static final int BYTES = 4 + 12 + VALUES / 2;

    private BlockQ4_K() {
    }

    public static void decode(MemorySegment src, long offset, int blocks, float[] out, int outOffset) {
        byte[] b = new byte[BYTES];
        int[] sc = new int[8];
        int[] m = new int[8];
        for (int i = 0; i < blocks; i++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, offset + (long) i * BYTES, b, 0, BYTES);
            float d = Fp16.toFloat(Blocks.le16(b, 0));
            float dmin = Fp16.toFloat(Blocks.le16(b, 2));
            unpackScales(b, 4, sc, m);
            int o = outOffset + i * VALUES;
            for (int c = 0; c < 4; c++) {
                float d1 = d * sc[2 * c], m1 = dmin * m[2 * c];
                float d2 = d * sc[2 * c + 1], m2 = dmin * m[2 * c + 1];
                int q = 16 + 32 * c;
                for (int l = 0; l < 32; l++) {
                    int v = b[q + l] & 0xFF;
                    out[o + 64 * c + l] = d1 * (v & 0xF) - m1;
                    out[o + 64 * c + 32 + l] = d2 * (v >>> 4) - m2;
                }
            }
        }
    }

    /** The eight 6-bit scales and mins packed in the 12 bytes at {@code b[at ..]}. */
    static void unpackScales(byte[] b, int at, int[] sc, int[] m) {
        for (int j = 0; j < 8; j++) {
            if (j < 4) {
                sc[j] = b[at + j] & 63;
                m[j] = b[at + j + 4] & 63;
            } else {
                sc[j] = (b[at + j + 4] & 0xF) | ((b[at + j - 4] & 0xFF) >>> 6) << 4;
                m[j] = ((b[at + j + 4] & 0xFF) >>> 4) | ((b[at + j] & 0xFF) >>> 6) << 4;
            }
        }
    }
}
