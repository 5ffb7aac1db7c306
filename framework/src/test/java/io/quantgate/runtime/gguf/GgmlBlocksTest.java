package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.GroupQuantizer;
import io.quantgate.kernels.format.QuantizedMatrix;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Block layouts built byte by byte from ggml's struct definitions, with expected values worked by hand
 * (the comments show the arithmetic), plus a per-element formulation of the K-quant layouts that indexes
 * each value directly instead of walking the blocks as the decoders do.
 */
class GgmlBlocksTest {

    private static float[] decode(GgmlType type, byte[] bytes, int count) {
        float[] out = new float[count];
        type.dequantize(MemorySegment.ofArray(bytes), 0, out, 0, count);
        return out;
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    @Test
    void typeTableMatchesGgml() {
        assertThat(GgmlType.Q8_0.id()).isEqualTo(8);
        assertThat(GgmlType.Q8_0.bytesPerBlock()).isEqualTo(34);
        assertThat(GgmlType.Q4_0.bytesPerBlock()).isEqualTo(18);
        assertThat(GgmlType.Q4_K.bytesPerBlock()).isEqualTo(144);
        assertThat(GgmlType.Q6_K.bytesPerBlock()).isEqualTo(210);
        assertThat(GgmlType.BF16.id()).isEqualTo(30);
        assertThat(GgmlType.Q4_K.rowBytes(4096)).isEqualTo(16 * 144);
        assertThat(GgmlType.F16.rowBytes(172)).isEqualTo(344);
        assertThatThrownBy(() -> GgmlType.Q8_0.rowBytes(172)).hasMessageContaining("172").hasMessageContaining("32");
        assertThat(GgmlType.byId(13)).isEmpty();
        assertThat(GgmlType.nameOf(13)).isEqualTo("Q5_K (type id 13)");
        assertThat(GgmlType.nameOf(200)).isEqualTo("unknown type id 200");
    }

    @Test
    void f32F16Bf16() {
        // 1.0f = 0x3F800000, -2.5f = 0xC0200000, little-endian
        assertThat(decode(GgmlType.F32, bytes(0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0), 2)).containsExactly(1.0f, -2.5f);
        // fp16 0x3C00 = 1, 0xC000 = -2, 0x7BFF = 65504 (max), 0x0001 = 2^-24 (smallest subnormal), 0x3555 = 0x155/2^10·2^-2
        assertThat(decode(GgmlType.F16, bytes(0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00, 0x55, 0x35), 5))
                .containsExactly(1.0f, -2.0f, 65504f, 0x1p-24f, (1 + 0x155 / 1024f) / 4);
        // bf16 is the top half of fp32: 0x3F80 = 1, 0xC040 = -3, 0x3E00 = 0.125
        assertThat(decode(GgmlType.BF16, bytes(0x80, 0x3F, 0x40, 0xC0, 0x00, 0x3E), 3)).containsExactly(1f, -3f, 0.125f);
    }

    @Test
    void q8_0HandBlock() {
        byte[] b = new byte[34];
        b[0] = 0x00;
        b[1] = 0x38; // d = fp16 0x3800 = 0.5
        int[] qs = {1, -2, 127, -128, 0, 5};
        for (int i = 0; i < qs.length; i++) {
            b[2 + i] = (byte) qs[i];
        }
        float[] v = decode(GgmlType.Q8_0, b, 32);
        assertThat(v).startsWith(0.5f, -1.0f, 63.5f, -64.0f, 0.0f, 2.5f);
        for (int i = 6; i < 32; i++) {
            assertThat(v[i]).isEqualTo(0.0f);
        }
    }

    @Test
    void q4_0HandBlock() {
        byte[] b = new byte[18];
        b[1] = 0x40; // d = fp16 0x4000 = 2.0
        for (int j = 0; j < 16; j++) {
            b[2 + j] = (byte) 0x88; // nibble 8 = 0 for both halves
        }
        b[2] = (byte) 0xF0;  // element 0: (0−8)·2 = −16; element 16: (15−8)·2 = 14
        b[3] = (byte) 0x98;  // element 1: (8−8)·2 = 0;   element 17: (9−8)·2 = 2
        b[17] = (byte) 0x7A; // element 15: (10−8)·2 = 4; element 31: (7−8)·2 = −2
        float[] v = decode(GgmlType.Q4_0, b, 32);
        assertThat(v[0]).isEqualTo(-16f);
        assertThat(v[16]).isEqualTo(14f);
        assertThat(v[1]).isEqualTo(0f);
        assertThat(v[17]).isEqualTo(2f);
        assertThat(v[15]).isEqualTo(4f);
        assertThat(v[31]).isEqualTo(-2f);
        assertThat(v[7]).isEqualTo(0f);
    }

    /** Scales sc = [1, 2, 3, 4, 33, 50, 63, 17] and mins m = [0, 1, 2, 3, 40, 20, 63, 5], packed by hand. */
    private static final int[] Q4K_SC = {1, 2, 3, 4, 33, 50, 63, 17};
    private static final int[] Q4K_M = {0, 1, 2, 3, 40, 20, 63, 5};
    private static final int[] Q4K_SCALE_BYTES = {
            0x81, // sc0 = 1  | (sc4 = 33 = 0b10_0001) >> 4 = 2, in bits 6-7
            0xC2, // sc1 = 2  | (sc5 = 50 = 0b11_0010) >> 4 = 3
            0xC3, // sc2 = 3  | (sc6 = 63) >> 4 = 3
            0x44, // sc3 = 4  | (sc7 = 17) >> 4 = 1
            0x80, // m0 = 0   | (m4 = 40 = 0b10_1000) >> 4 = 2
            0x41, // m1 = 1   | (m5 = 20) >> 4 = 1
            0xC2, // m2 = 2   | (m6 = 63) >> 4 = 3
            0x03, // m3 = 3   | (m7 = 5) >> 4 = 0
            0x81, // sc4 & 15 = 1  | (m4 & 15 = 8) << 4
            0x42, // sc5 & 15 = 2  | (m5 & 15 = 4) << 4
            0xFF, // sc6 & 15 = 15 | (m6 & 15 = 15) << 4
            0x51, // sc7 & 15 = 1  | (m7 & 15 = 5) << 4
    };

    private static byte[] q4kBlock(byte[] qs) {
        byte[] b = new byte[144];
        b[0] = 0x00;
        b[1] = 0x3C; // d = 1.0
        b[2] = 0x00;
        b[3] = 0x38; // dmin = 0.5
        for (int i = 0; i < 12; i++) {
            b[4 + i] = (byte) Q4K_SCALE_BYTES[i];
        }
        System.arraycopy(qs, 0, b, 16, 128);
        return b;
    }

    @Test
    void q4_KHandSuperBlock() {
        byte[] qs = new byte[128];
        for (int i = 0; i < 128; i++) {
            qs[i] = (byte) ((i % 16) | (15 - i % 16) << 4);
        }
        float[] v = decode(GgmlType.Q4_K, q4kBlock(qs), 256);
        // value = d·sc·q − dmin·m; element 64c + l is the low nibble of qs[32c + l] (sub-block 2c),
        // element 64c + 32 + l the high nibble (sub-block 2c + 1)
        assertThat(v[0]).isEqualTo(0f);          // qs[0] low 0: 1·1·0 − 0.5·0
        assertThat(v[5]).isEqualTo(5f);          // qs[5] low 5: 1·1·5 − 0
        assertThat(v[37]).isEqualTo(19.5f);      // qs[5] high 10, sub-block 1: 2·10 − 0.5·1
        assertThat(v[67]).isEqualTo(8f);         // qs[35] low 3, sub-block 2: 3·3 − 0.5·2
        assertThat(v[135]).isEqualTo(211f);      // qs[71] low 7, sub-block 4: 33·7 − 0.5·40
        assertThat(v[161]).isEqualTo(690f);      // qs[65] high 14, sub-block 5: 50·14 − 0.5·20
        assertThat(v[194]).isEqualTo(94.5f);     // qs[98] low 2, sub-block 6: 63·2 − 0.5·63
        assertThat(v[239]).isEqualTo(-2.5f);     // qs[111] high 0, sub-block 7: 17·0 − 0.5·5
    }

    @Test
    void q4_KEveryElementOfTwoRandomSuperBlocks() {
        SplittableRandom rnd = new SplittableRandom(7);
        byte[] two = new byte[288];
        rnd.nextBytes(two);
        // sane fp16 super-scales (random bits could be NaN): d = 0.25 · k, dmin = 0.125 · k
        float[][] dd = {{0.25f, 0.125f}, {-0.75f, 0.375f}};
        for (int s = 0; s < 2; s++) {
            putFp16(two, 144 * s, dd[s][0]);
            putFp16(two, 144 * s + 2, dd[s][1]);
        }
        float[] v = decode(GgmlType.Q4_K, two, 512);
        for (int s = 0; s < 2; s++) {
            int base = 144 * s;
            for (int e = 0; e < 256; e++) {
                int sub = e / 32;                                     // 8 sub-blocks of 32
                int byteIndex = base + 16 + 32 * (sub / 2) + e % 32;  // sub-blocks 2c and 2c+1 share 32 bytes
                int q = sub % 2 == 0 ? two[byteIndex] & 0xF : (two[byteIndex] & 0xFF) >> 4;
                int sc, m;
                int[] p = new int[12];
                for (int i = 0; i < 12; i++) {
                    p[i] = two[base + 4 + i] & 0xFF;
                }
                if (sub < 4) {
                    sc = p[sub] & 63;
                    m = p[sub + 4] & 63;
                } else {
                    sc = (p[sub + 4] & 15) + 16 * (p[sub - 4] >> 6);
                    m = (p[sub + 4] >> 4) + 16 * (p[sub] >> 6);
                }
                float expected = (dd[s][0] * sc) * q - dd[s][1] * m;
                assertThat(v[256 * s + e]).as("super-block %d element %d", s, e).isEqualTo(expected);
            }
        }
    }

    @Test
    void q6_KHandSuperBlock() {
        byte[] b = new byte[210];
        for (int i = 0; i < 128; i++) {
            b[i] = (byte) i;           // ql[i]: low nibble i % 16, high nibble i / 16
        }
        for (int i = 0; i < 64; i++) {
            b[128 + i] = (byte) 0xE4;  // qh: 0b11_10_01_00, so quarter t gets high bits t
        }
        for (int i = 0; i < 16; i++) {
            b[192 + i] = (byte) (i - 8); // scales −8..7
        }
        b[208] = 0x00;
        b[209] = 0x38; // d = 0.5
        float[] v = decode(GgmlType.Q6_K, b, 256);
        // element 128h + 32t + l: low bits from ql[64h + l + 32(t&1)] (low nibble if t < 2), high bits t,
        // scale scales[8h + l/16 + 2t], value d·scale·(code − 32)
        assertThat(v[0]).isEqualTo(128f);     // ql[0] low 0, code 0 − 32 = −32, scale −8: 0.5·−8·−32
        assertThat(v[33]).isEqualTo(45f);     // ql[33] low 1, code 17 − 32 = −15, scale[2] = −6: 0.5·−6·−15
        assertThat(v[90]).isEqualTo(-1.5f);   // ql[26] high 1, code 33 − 32 = 1, scale[5] = −3
        assertThat(v[127]).isEqualTo(-9.5f);  // ql[63] high 3, code 51 − 32 = 19, scale[7] = −1
        assertThat(v[148]).isEqualTo(-14f);   // ql[84] low 4, code 4 − 32 = −28, scale[9] = 1
        assertThat(v[255]).isEqualTo(80.5f);  // ql[127] high 7, code 55 − 32 = 23, scale[15] = 7
    }

    @Test
    void q6_KEveryElementOfTwoRandomSuperBlocks() {
        SplittableRandom rnd = new SplittableRandom(11);
        byte[] two = new byte[420];
        rnd.nextBytes(two);
        float[] d = {0.0625f, -1.5f};
        putFp16(two, 208, d[0]);
        putFp16(two, 210 + 208, d[1]);
        float[] v = decode(GgmlType.Q6_K, two, 512);
        for (int s = 0; s < 2; s++) {
            int base = 210 * s;
            for (int e = 0; e < 256; e++) {
                int h = e / 128, t = (e % 128) / 32, l = e % 32;
                int lowByte = two[base + 64 * h + l + 32 * (t & 1)] & 0xFF;
                int low = t < 2 ? lowByte & 15 : lowByte >> 4;
                int high = ((two[base + 128 + 32 * h + l] & 0xFF) >> (2 * t)) & 3;
                int scale = two[base + 192 + 8 * h + l / 16 + 2 * t];
                float expected = d[s] * scale * (low + 16 * high - 32);
                assertThat(v[256 * s + e]).as("super-block %d element %d", s, e).isEqualTo(expected);
            }
        }
    }

    private static void putFp16(byte[] b, int at, float v) {
        short bits = Float.floatToFloat16(v);
        assertThat(Float.float16ToFloat(bits)).isEqualTo(v);
        b[at] = (byte) bits;
        b[at + 1] = (byte) (bits >> 8);
    }

    @Test
    void q8_0QuantizeRefRoundsHalfAwayFromZero() {
        float[] x = new float[32];
        // amax 127 makes d = 1 and 1/d = 1 exactly, so the codes are roundf(x)
        float[] head = {127f, -63.5f, 63.5f, 2.5f, -2.5f, 0.49999997f, 1.4999999f, -0.5f};
        System.arraycopy(head, 0, x, 0, head.length);
        byte[] b = BlockQ8_0.quantize(x, 0, 32, "t");
        assertThat(b).hasSize(34);
        assertThat(b[0]).isEqualTo((byte) 0x00);
        assertThat(b[1]).isEqualTo((byte) 0x3C); // fp16 1.0
        assertThat(new byte[] {b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]})
                .containsExactly(127, -64, 64, 3, -3, 0, 1, -1);
        // an all-zero block: d = 0 and id = 0, codes 0
        assertThat(BlockQ8_0.quantize(new float[32], 0, 32, "t")).containsOnly(0);
    }

    @Test
    void q4_0QuantizeRefUsesTheSignedExtreme() {
        float[] x = new float[32];
        x[0] = 7f;      // 7·1 + 8.5 = 15.5 → 15
        x[3] = -8f;     // the extreme: d = −8 / −8 = 1, code trunc(0.5) = 0
        x[5] = -0.5f;   // 8.0 → 8 (value 0)
        x[6] = 0.5f;    // 9.0 → 9
        x[16] = 2.4f;   // 10.9 → 10
        x[17] = -7.9f;  // 0.6 → 0
        byte[] b = BlockQ4_0.quantize(x, 0, 32, "t");
        assertThat(b[1]).isEqualTo((byte) 0x3C); // d = +1.0
        int[] nib = nibbles(b);
        assertThat(nib[0]).isEqualTo(15);
        assertThat(nib[3]).isEqualTo(0);
        assertThat(nib[5]).isEqualTo(8);
        assertThat(nib[6]).isEqualTo(9);
        assertThat(nib[16]).isEqualTo(10);
        assertThat(nib[17]).isEqualTo(0);
        assertThat(nib[1]).isEqualTo(8);

        // a positive extreme makes d negative: 8 → d = −1, code trunc(8·−1 + 8.5) = 0, decoded (0−8)·−1 = 8;
        // ties in magnitude keep the first value (4 before −4), so d = 4 / −8 = −0.5
        float[] y = new float[32];
        y[0] = 4f;
        y[1] = -4f;
        byte[] c = BlockQ4_0.quantize(y, 0, 32, "t");
        assertThat(Float.float16ToFloat((short) ((c[0] & 0xFF) | c[1] << 8))).isEqualTo(-0.5f);
        float[] back = decode(GgmlType.Q4_0, c, 32);
        assertThat(back[0]).isEqualTo(4f);
        assertThat(back[1]).as("−4/−0.5 = 8 clamps to code 15 → 7·−0.5").isEqualTo(-3.5f);
    }

    private static int[] nibbles(byte[] block) {
        int[] n = new int[32];
        for (int j = 0; j < 16; j++) {
            n[j] = block[2 + j] & 0xF;
            n[j + 16] = (block[2 + j] & 0xFF) >> 4;
        }
        return n;
    }

    @Test
    void quantizeRefusesBadInput() {
        assertThatThrownBy(() -> BlockQ8_0.quantize(new float[31], 0, 31, "blk.0.ffn_down.weight"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("blk.0.ffn_down.weight")
                .hasMessageContaining("32");
        float[] nan = new float[32];
        nan[9] = Float.NaN;
        assertThatThrownBy(() -> BlockQ4_0.quantize(nan, 0, 32, "w")).hasMessageContaining("NaN")
                .hasMessageContaining("index 9");
        float[] huge = new float[32];
        huge[0] = 1e38f; // d = 1e38/127 overflows fp16
        assertThatThrownBy(() -> BlockQ8_0.quantize(huge, 0, 32, "w")).hasMessageContaining("fp16");
        assertThatThrownBy(() -> BlockQ4_0.encode(new byte[] {8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, new short[] {0x3C00}))
                .hasMessageContaining("−8..7");
        assertThatThrownBy(() -> BlockQ8_0.encode(new byte[33], new short[1])).hasMessageContaining("32 codes per scale");
    }

    @Test
    void encodeFromCodesAndScalesPacksAsGgml() {
        byte[] codes = new byte[32];
        for (int i = 0; i < 32; i++) {
            codes[i] = (byte) (i % 16 - 8); // −8..7
        }
        short scale = Float.floatToFloat16(0.25f);
        byte[] q4 = BlockQ4_0.encode(codes, new short[] {scale});
        // element j in the low nibble of byte j, element j+16 in the high nibble, both stored as q + 8
        assertThat(q4[2]).isEqualTo((byte) 0x00);  // q0 = −8 → 0, q16 = −8 → 0
        assertThat(q4[2 + 15]).isEqualTo((byte) 0xFF); // q15 = 7 → 15, q31 = 7 → 15
        float[] v4 = decode(GgmlType.Q4_0, q4, 32);
        byte[] q8 = BlockQ8_0.encode(codes, new short[] {scale});
        float[] v8 = decode(GgmlType.Q8_0, q8, 32);
        for (int i = 0; i < 32; i++) {
            assertThat(v4[i]).isEqualTo(codes[i] * 0.25f);
            assertThat(v8[i]).isEqualTo(codes[i] * 0.25f);
        }
    }

    /** QuantGate's int8-g32 and int4s-g32 matrices become Q8_0 and Q4_0 blocks holding the very same values. */
    @Test
    void int8G32AndInt4sG32ConvertBitExactly() {
        SplittableRandom rnd = new SplittableRandom(3);
        int n = 24, k = 96;
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rnd.nextGaussian() * (1 + i % 7));
        }
        try (Arena arena = Arena.ofConfined()) {
            QuantizedMatrix int8 = GroupQuantizer.quantize(ConfigId.parse("int8-g32"), n, k, w, arena);
            assertThat(decode(GgmlType.Q8_0, BlockQ8_0.encode(int8), n * k)).containsExactly(int8.dequantize());
            QuantizedMatrix int4s = GroupQuantizer.quantize(ConfigId.parse("int4s-g32"), n, k, w, arena);
            assertThat(decode(GgmlType.Q4_0, BlockQ4_0.encode(int4s), n * k)).containsExactly(int4s.dequantize());
            QuantizedMatrix g64 = GroupQuantizer.quantize(ConfigId.parse("int8-g64"), n, k, w, arena);
            assertThatThrownBy(() -> BlockQ8_0.encode(g64)).hasMessageContaining("int8-g32");
            assertThatThrownBy(() -> BlockQ4_0.encode(int8)).hasMessageContaining("int4s-g32");
        }
    }
}
