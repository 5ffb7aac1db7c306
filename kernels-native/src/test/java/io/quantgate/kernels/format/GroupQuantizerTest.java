package io.quantgate.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GroupQuantizerTest {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    private QuantizedMatrix q(String id, int n, int k, float... w) {
        return GroupQuantizer.quantize(ConfigId.parse(id), n, k, w, arena);
    }

    private static int word(QuantizedMatrix m, int r, int w) {
        return m.codes().get(LE_INT, r * m.rowBytes() + 4L * w);
    }

    static float[] gaussian(int count, long seed, double sigma) {
        Random rnd = new Random(seed);
        float[] w = new float[count];
        for (int i = 0; i < count; i++) {
            w[i] = (float) (rnd.nextGaussian() * sigma);
        }
        return w;
    }

    @Test
    void roundAwayTiesAwayFromZero() {
        assertThat(GroupQuantizer.roundAway(0.5f)).isEqualTo(1);
        assertThat(GroupQuantizer.roundAway(-0.5f)).isEqualTo(-1);
        assertThat(GroupQuantizer.roundAway(2.5f)).isEqualTo(3);
        assertThat(GroupQuantizer.roundAway(-2.5f)).isEqualTo(-3);
        assertThat(GroupQuantizer.roundAway(0.49999997f)).isEqualTo(0); // float |v|+0.5f would give 1
        assertThat(GroupQuantizer.roundAway(-1.4f)).isEqualTo(-1);
    }

    @Test
    void int8PerRowHandComputed() {
        QuantizedMatrix m = q("int8", 1, 8, 15.875f, -1f, 0.0625f, -0.0625f, 0.1875f, -0.1875f, 0.03f, 0f);
        assertThat(m.groupsPerRow()).isEqualTo(1);
        assertThat(m.groupSize()).isEqualTo(8);
        assertThat(m.scaleBits(0, 0)).isEqualTo((short) 0x3000);        // 15.875/127 = 0.125
        int[] codes = new int[8];
        for (int k = 0; k < 8; k++) {
            codes[k] = m.code(0, k);
        }
        assertThat(codes).containsExactly(127, -8, 1, -1, 2, -2, 0, 0); // ±0.5 and ±1.5 round away
        assertThat(m.dequantizeRow(0)).containsExactly(15.875f, -1f, 0.125f, -0.125f, 0.25f, -0.25f, 0f, 0f);
        assertThat(m.zeros()).isEqualTo(MemorySegment.NULL);
    }

    @Test
    void int8ScaleOfOneOver127() {
        QuantizedMatrix m = q("int8", 1, 2, 1f, -0.5f);
        assertThat(m.scaleBits(0, 0)).isEqualTo((short) 0x2008);
        float s = Fp16.toFloat((short) 0x2008);
        assertThat(m.code(0, 0)).isEqualTo(127);                         // 1/s = 127.0079 → 127
        assertThat(m.code(0, 1)).isEqualTo(GroupQuantizer.roundAway(-0.5f / s)).isEqualTo(-64);
    }

    @Test
    void int4AsymmetricHandComputed() {
        float[] w = new float[2 * 64];
        // row 0, group 0: lo=-1.5, hi=6 → s=0.5, z=3
        float[] g0 = {-1.5f, 6f, 0.25f, -0.25f, 1f, 0f, 0.2f};
        System.arraycopy(g0, 0, w, 0, g0.length);
        // row 0, group 1: all positive → the range is widened to 0: lo=0, hi=7.5 → s=0.5, z=0
        float[] g1 = {0.5f, 1f, 7.5f};
        System.arraycopy(g1, 0, w, 32, g1.length);
        // row 1, group 0: all negative → lo=-7.5, hi=0 → s=0.5, z=15; group 1 all zero
        w[64] = -7.5f;
        w[65] = -1f;
        QuantizedMatrix m = q("int4-g32", 2, 64, w);
        assertThat(m.groupsPerRow()).isEqualTo(2);
        assertThat(m.rowBytes()).isEqualTo(32);
        assertThat(m.zeroBytes()).isEqualTo(4);
        assertThat(m.scaleBits(0, 0)).isEqualTo((short) 0x3800);
        assertThat(m.scaleBits(0, 1)).isEqualTo((short) 0x3800);
        assertThat(m.scaleBits(1, 0)).isEqualTo((short) 0x3800);
        assertThat(m.scaleBits(1, 1)).isEqualTo((short) 0);
        assertThat(m.zero(0, 0)).isEqualTo(3);
        assertThat(m.zero(0, 1)).isEqualTo(0);
        assertThat(m.zero(1, 0)).isEqualTo(15);
        assertThat(m.zero(1, 1)).isEqualTo(0);
        // codes 0,15,4,2,5,3,3,3 (0.25/0.5=0.5 rounds away to 1, -0.5 to -1)
        assertThat(word(m, 0, 0)).isEqualTo(0x333524F0);
        assertThat(word(m, 0, 1)).isEqualTo(0x33333333);
        assertThat(word(m, 0, 4)).isEqualTo(0x00000F21);
        assertThat(word(m, 0, 5)).isZero();
        assertThat(word(m, 1, 0)).isEqualTo(0xFFFFFFD0);
        assertThat(word(m, 1, 4)).isZero();
        float[] d0 = m.dequantizeRow(0);
        assertThat(d0[0]).isEqualTo(-1.5f);
        assertThat(d0[1]).isEqualTo(6f);
        assertThat(d0[2]).isEqualTo(0.5f);
        assertThat(d0[3]).isEqualTo(-0.5f);
        assertThat(d0[6]).isEqualTo(0f);
        assertThat(d0[34]).isEqualTo(7.5f);
        float[] d1 = m.dequantizeRow(1);
        assertThat(d1[0]).isEqualTo(-7.5f);
        assertThat(d1[1]).isEqualTo(-1f);
        for (int k = 32; k < 64; k++) {
            assertThat(d1[k]).isEqualTo(0f);
        }
    }

    @Test
    void int4sHandComputedAndGroupClampedToK() {
        QuantizedMatrix m = q("int4s-g32", 1, 8, 3.5f, -3.5f, 0.25f, -0.25f, 1f, -0.75f, 0f, 2f);
        assertThat(m.groupSize()).isEqualTo(8);
        assertThat(m.groupsPerRow()).isEqualTo(1);
        assertThat(m.groupClamped()).isTrue();
        assertThat(m.scaleBits(0, 0)).isEqualTo((short) 0x3800);         // 3.5/7
        // q = 7, -7, 1, -1, 2, -2, 0, 4 → nibbles 7, 9, 1, F, 2, E, 0, 4
        assertThat(word(m, 0, 0)).isEqualTo(0x40E2F197);
        assertThat(m.code(0, 1)).isEqualTo(9);
        assertThat(m.dequantizeRow(0)).containsExactly(3.5f, -3.5f, 0.5f, -0.5f, 1f, -1f, 0f, 2f);
    }

    @Test
    void fp4HandComputed() {
        QuantizedMatrix m = q("fp4-g32", 1, 8, 0.25f, 0.75f, 2.5f, 5f, -0.1f, -3f, 6f, -6f);
        assertThat(m.scaleBits(0, 0)).isEqualTo((short) 0x3C00);         // 6/6
        assertThat(word(m, 0, 0)).isEqualTo(0xF7D06420);                  // 0,2,4,6,0,13,7,15
        assertThat(m.dequantizeRow(0)).containsExactly(0f, 1f, 2f, 4f, 0f, -3f, 6f, -6f);
    }

    @Test
    void fp4ScaledGroup() {
        // absmax 3 → s = 0.5; w/s = 1.5 → index 3, -0.25/0.5 = -0.5 → nibble 9
        QuantizedMatrix m = q("fp4-g32", 1, 3, 3f, 0.75f, -0.25f);
        assertThat(m.scaleBits(0, 0)).isEqualTo((short) 0x3800);
        assertThat(m.code(0, 0)).isEqualTo(7);
        assertThat(m.code(0, 1)).isEqualTo(3);
        assertThat(m.code(0, 2)).isEqualTo(9);
        assertThat(word(m, 0, 0)).isEqualTo(0x937);                       // padding nibbles are 0
    }

    @Test
    void nf4HandComputed() {
        float[] w = new float[16];
        for (int i = 0; i < 16; i++) {
            w[i] = 2f * Nf4.LEVELS[i];
        }
        QuantizedMatrix m = q("nf4-g64", 1, 16, w);
        assertThat(m.scaleBits(0, 0)).isEqualTo((short) 0x4000);
        assertThat(word(m, 0, 0)).isEqualTo(0x76543210);
        assertThat(word(m, 0, 1)).isEqualTo(0xFEDCBA98);
        assertThat(m.dequantizeRow(0)).containsExactly(w);
    }

    @Test
    void denseConversions() {
        QuantizedMatrix f32 = q("fp32", 1, 3, 1f, -0.1f, 3e38f);
        assertThat(f32.code(0, 1)).isEqualTo(Float.floatToRawIntBits(-0.1f));
        assertThat(f32.dequantizeRow(0)).containsExactly(1f, -0.1f, 3e38f);
        assertThat(f32.scales()).isEqualTo(MemorySegment.NULL);

        QuantizedMatrix f16 = q("fp16", 1, 3, 1f, 0.1f, -65504f);
        assertThat(f16.code(0, 0)).isEqualTo(0x3C00);
        assertThat(f16.code(0, 1)).isEqualTo(0x2E66);
        assertThat(f16.code(0, 2)).isEqualTo(0xFBFF);
        assertThat(f16.rowBytes()).isEqualTo(6);

        QuantizedMatrix b16 = q("bf16", 1, 2, 1f, 0.1f);
        assertThat(b16.code(0, 0)).isEqualTo(0x3F80);
        assertThat(b16.code(0, 1)).isEqualTo(0x3DCD);
        assertThat(b16.dequantizeRow(0)[1]).isEqualTo(Float.intBitsToFloat(0x3DCD0000));
    }

    @Test
    void shortLastGroupUsesOnlyItsOwnValues() {
        int k = 172;
        float[] w = gaussian(2 * k, 7, 0.02);
        for (int c = 0; c < 40; c++) {
            w[c] = 10f * (c % 2 == 0 ? 1 : -1);      // huge values in row 0's first groups
            w[k + c] = 100f;                          // and at the start of row 1 (right after row 0's tail)
        }
        QuantizedMatrix m = q("int4-g32", 2, k, w);
        assertThat(m.groupsPerRow()).isEqualTo(6);
        assertThat(m.rowBytes()).isEqualTo(88);      // 22 words
        float[] tail = new float[12];
        System.arraycopy(w, 160, tail, 0, 12);
        float lo = 0;
        float hi = 0;
        for (float v : tail) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        assertThat(m.scaleBits(0, 5)).isEqualTo(Fp16.toBits((hi - lo) / 15f));
        assertThat(m.scale(0, 5)).isLessThan(0.02f);
        // the tail group quantizes exactly like a stand-alone 1x12 tensor
        QuantizedMatrix alone = q("int4-g32", 1, 12, tail);
        assertThat(m.scaleBits(0, 5)).isEqualTo(alone.scaleBits(0, 0));
        assertThat(m.zero(0, 5)).isEqualTo(alone.zero(0, 0));
        for (int c = 0; c < 12; c++) {
            assertThat(m.code(0, 160 + c)).isEqualTo(alone.code(0, c));
        }
        // K % 8 == 4: the upper four nibbles of each row's last word are 0
        assertThat(word(m, 0, 21) >>> 16).isZero();
        assertThat(word(m, 1, 21) >>> 16).isZero();
    }

    @Test
    void allZeroAndUnderflowingGroupsDequantizeToZeroWithoutNan() {
        for (String id : new String[] {"int8", "int8-g32", "int4-g32", "int4s-g32", "fp4-g32", "nf4-g32"}) {
            float[] w = new float[64];
            for (int c = 32; c < 64; c++) {
                w[c] = 1e-12f;                         // fp16 scale underflows to 0
            }
            QuantizedMatrix m = q(id, 1, 64, w);
            for (int g = 0; g < m.groupsPerRow(); g++) {
                assertThat(m.scaleBits(0, g)).as(id).isEqualTo((short) 0);
                assertThat(m.zero(0, g)).as(id).isZero();
            }
            for (int c = 0; c < 64; c++) {
                assertThat(m.code(0, c)).as(id).isZero();
            }
            for (float v : m.dequantizeRow(0)) {
                assertThat(v).as(id).isEqualTo(0f);
            }
        }
    }

    @Test
    void nonFiniteWeightIsRejectedWithRowAndColumn() {
        float[] w = new float[8];
        w[7] = Float.NaN;
        assertThatThrownBy(() -> GroupQuantizer.quantize(ConfigId.parse("fp4"), 2, 4, w, arena, "blk.0.w"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tensor 'blk.0.w': non-finite weight NaN at row 1, column 3");
        float[] w2 = new float[8];
        w2[1] = Float.NEGATIVE_INFINITY;
        assertThatThrownBy(() -> q("fp32", 2, 4, w2))
                .hasMessage("tensor 'tensor': non-finite weight -Infinity at row 0, column 1");
    }

    @Test
    void firstBadRowIsReportedEvenInParallel() {
        int n = 512;
        int k = 256;
        float[] w = gaussian(n * k, 3, 1);
        w[400 * k + 9] = Float.NaN;
        w[37 * k + 200] = Float.POSITIVE_INFINITY;
        assertThatThrownBy(() -> q("int8", n, k, w))
                .hasMessage("tensor 'tensor': non-finite weight Infinity at row 37, column 200");
    }

    @Test
    void fp16OverflowIsRejected() {
        assertThatThrownBy(() -> q("fp16", 1, 3, 1f, 2f, 70000f))
                .hasMessage("tensor 'tensor': weight 70000.0 at row 0, column 2 overflows fp16 (|v| > 65504)");
        assertThatThrownBy(() -> q("int8", 1, 3, 1f, -1e7f, 2f))
                .hasMessageContaining("scale 78740.16 of row 0, columns 0..2")
                .hasMessageContaining("largest weight -1.0E7 at column 1")
                .hasMessageContaining("overflows fp16");
        assertThatThrownBy(() -> q("nf4", 1, 2, 1f, 70000f)).hasMessageContaining("overflows fp16");
        assertThatThrownBy(() -> q("bf16", 1, 1, Float.MAX_VALUE)).hasMessageContaining("overflows bf16");
    }

    @Test
    void shapeMismatchIsRejected() {
        assertThatThrownBy(() -> GroupQuantizer.quantize(ConfigId.parse("int8"), 2, 3, new float[5], arena, "t"))
                .hasMessage("tensor 't': 5 weights given for shape 2x3 (expected 6)");
        assertThatThrownBy(() -> q("int8", 0, 3)).hasMessageContaining("shape must be positive");
    }

    @ParameterizedTest
    @ValueSource(strings = {"fp32", "bf16", "int8", "int4-g64", "int4s-g32", "fp4-g128", "nf4-g64"})
    void parallelEqualsSequentialRowByRow(String id) {
        int n = 300;
        int k = 520;
        float[] w = gaussian(n * k, 11, 0.05);
        QuantizedMatrix all = q(id, n, k, w);     // 156000 weights: parallel path, confined arena
        for (int r = 0; r < n; r += 37) {
            float[] row = new float[k];
            System.arraycopy(w, r * k, row, 0, k);
            QuantizedMatrix one = q(id, 1, k, row);
            assertThat(all.codes().asSlice(r * all.rowBytes(), all.rowBytes()).mismatch(one.codes())).isEqualTo(-1);
            for (int g = 0; g < all.groupsPerRow(); g++) {
                assertThat(all.scaleBits(r, g)).isEqualTo(one.scaleBits(0, g));
                assertThat(all.zero(r, g)).isEqualTo(one.zero(0, g));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"int8", "int8-g32", "int4-g32", "int4-g128", "int4s-g64", "int4s-g256"})
    void integerRoundTripWithinHalfAStep(String id) {
        int n = 32;
        int k = 300;
        float[] w = gaussian(n * k, 5, 0.02);
        QuantizedMatrix m = q(id, n, k, w);
        // int4: a zero point rounded by 1/2 step can clip the far end of the range by an extra
        // 15·(fp16 rounding of s) ≤ 15·2^-11·s; int8/int4s only see fp32 rounding of w/s.
        double slack = id.startsWith("int4-") ? 16 * Math.pow(2, -11) : 1e-5;
        for (int r = 0; r < n; r++) {
            float[] d = m.dequantizeRow(r);
            for (int c = 0; c < k; c++) {
                double s = m.scale(r, c / m.groupSize());
                double err = Math.abs((double) d[c] - w[r * k + c]);
                assertThat(err).as("%s (%d,%d)", id, r, c).isLessThanOrEqualTo(s * (0.5 + slack));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"fp4-g32", "fp4-g128", "nf4-g64", "nf4-g256"})
    void levelRoundTripWithinHalfTheLocalGap(String id) {
        int n = 32;
        int k = 300;
        float[] w = gaussian(n * k, 9, 0.02);
        QuantizedMatrix m = q(id, n, k, w);
        boolean fp4 = id.startsWith("fp4");
        float[] levels = fp4 ? Fp4E2M1.LEVELS : Nf4.LEVELS;
        for (int r = 0; r < n; r++) {
            float[] d = m.dequantizeRow(r);
            for (int c = 0; c < k; c++) {
                double s = m.scale(r, c / m.groupSize());
                double wv = w[r * k + c];
                double v = fp4 ? Math.abs(wv / s) : wv / s;
                int i = 0;
                while (i < levels.length - 2 && v > levels[i + 1]) {
                    i++;
                }
                double halfGap = (levels[i + 1] - levels[i]) / 2.0;
                // beyond the end level (fp16 scale rounded down) the clamp costs ≤ 6·2^-11 or 2^-11 of s
                double bound = s * (halfGap * (1 + 1e-5) + 6 * Math.pow(2, -11));
                assertThat(Math.abs(d[c] - wv)).as("%s (%d,%d)", id, r, c).isLessThanOrEqualTo(bound);
            }
        }
    }

    /** Codes read back from a round-to-nearest matrix and packed again give the same bytes: pack is its inverse. */
    @ParameterizedTest
    @ValueSource(strings = {"int8", "int8-g32", "int4-g64", "int4s-g32", "fp4-g128", "nf4-g256"})
    void packRebuildsTheSameMatrix(String id) {
        int n = 7;
        int k = 203; // not a multiple of any group, nor of 8 (a padded last word)
        QuantizedMatrix m = q(id, n, k, gaussian(n * k, 3, 0.05));
        int groups = m.groupsPerRow();
        int[] codes = new int[n * k];
        short[] scales = new short[n * groups];
        byte[] zeros = m.format() == WeightFormat.INT4 ? new byte[n * groups] : null;
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < k; c++) {
                codes[r * k + c] = m.code(r, c);
            }
            for (int g = 0; g < groups; g++) {
                scales[r * groups + g] = m.scaleBits(r, g);
                if (zeros != null) {
                    zeros[r * groups + g] = (byte) m.zero(r, g);
                }
            }
        }
        QuantizedMatrix p = QuantizedMatrix.pack(m.config(), n, k, codes, scales, zeros, arena);
        assertThat(p.codes().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(m.codes().toArray(ValueLayout.JAVA_BYTE));
        assertThat(p.scales().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(m.scales().toArray(ValueLayout.JAVA_BYTE));
        assertThat(p.dequantize()).isEqualTo(m.dequantize());
        codes[5] = m.format() == WeightFormat.INT8 ? 128 : 16;
        assertThatThrownBy(() -> QuantizedMatrix.pack(m.config(), n, k, codes, scales, zeros, arena))
                .hasMessageContaining("at (0, 5) is outside");
    }

    /** GroupCodec's decode is the dequantization QuantizedMatrix defines, code by code. */
    @Test
    void codecDecodeMatchesDequantize() {
        for (String id : new String[] {"int8-g32", "int4-g32", "int4s-g32", "fp4-g32", "nf4-g32"}) {
            QuantizedMatrix m = q(id, 3, 64, gaussian(192, 9, 1.0));
            float[] d = m.dequantize();
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 64; c++) {
                    assertThat(GroupCodec.decode(m.format(), m.code(r, c), m.scale(r, c / 32), m.zero(r, c / 32)))
                            .isEqualTo(d[r * 64 + c]);
                }
            }
        }
    }
}
