package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.Fp16;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ggml's {@code block_q6_K}, a super-block of 256 values in 16 sub-blocks of 16 (210 bytes):
 * <pre>
 *   uint8 ql[128]     low 4 bits of each 6-bit code
 *   uint8 qh[64]      high 2 bits, four codes per byte
 *   int8  scales[16]  one signed scale per 16 values
 *   fp16  d           super-block scale (little-endian, last)
 * </pre>
 * Each half {@code h} of 128 values uses {@code ql[64h ..]}, {@code qh[32h ..]}, {@code scales[8h ..]}; for
 * {@code l < 32} and quarter {@code t ∈ 0..3}, value {@code 128h + 32t + l} has low bits from
 * {@code ql[64h + l + 32·(t&1)]} (low nibble for t &lt; 2, high nibble otherwise), high bits
 * {@code (qh[32h + l] >> 2t) & 3}, scale {@code scales[8h + l/16 + 2t]}, and value
 * {@code (d · scale) · (code − 32)}, as ggml's {@code dequantize_row_q6_K}.
 */
public final class BlockQ6_K {
    public static final int VALUES = 256;
    public static final int BYTES = VALUES / 2 + VALUES / 4 + VALUES / 16 + 2;
    private static final int QL = 0, QH = 128, SCALES = 192, D = 208;

    private BlockQ6_K() {
    }

    public static void decode(MemorySegment src, long offset, int blocks, float[] out, int outOffset) {
        byte[] b = new byte[BYTES];
        for (int i = 0; i < blocks; i++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, offset + (long) i * BYTES, b, 0, BYTES);
            float d = Fp16.toFloat(Blocks.le16(b, D));
            for (int h = 0; h < 2; h++) {
                int ql = QL + 64 * h, qh = QH + 32 * h, sc = SCALES + 8 * h;
                int o = outOffset + i * VALUES + 128 * h;
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int lo0 = b[ql + l] & 0xFF, lo1 = b[ql + l + 32] & 0xFF, hi = b[qh + l] & 0xFF;
                    int q1 = ((lo0 & 0xF) | ((hi & 3) << 4)) - 32;
                    int q2 = ((lo1 & 0xF) | (((hi >>> 2) & 3) << 4)) - 32;
                    int q3 = ((lo0 >>> 4) | (((hi >>> 4) & 3) << 4)) - 32;
                    int q4 = ((lo1 >>> 4) | (((hi >>> 6) & 3) << 4)) - 32;
                    out[o + l] = d * b[sc + is] * q1;
                    out[o + l + 32] = d * b[sc + is + 2] * q2;
                    out[o + l + 64] = d * b[sc + is + 4] * q3;
                    out[o + l + 96] = d * b[sc + is + 6] * q4;
                }
            }
        }
    }
}
