package io.quantgate.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ScalarFormatsTest {

    private static float f(double d) {
        return (float) d;
    }

    @Test
    void fp16KnownBitsAndTiesToEven() {
        assertThat(Fp16.toBits(1f)).isEqualTo((short) 0x3C00);
        assertThat(Fp16.toBits(-2f)).isEqualTo((short) 0xC000);
        assertThat(Fp16.toBits(65504f)).isEqualTo((short) 0x7BFF);
        assertThat(Fp16.toBits(0.1f)).isEqualTo((short) 0x2E66);
        assertThat(Fp16.toBits(1f / 127f)).isEqualTo((short) 0x2008);
        // 1 + 2^-11 lies exactly between 0x3C00 and 0x3C01: ties go to the even mantissa
        assertThat(Fp16.toBits(f(1 + Math.pow(2, -11)))).isEqualTo((short) 0x3C00);
        // 1 + 3·2^-11 lies between 0x3C01 (odd) and 0x3C02 (even)
        assertThat(Fp16.toBits(f(1 + 3 * Math.pow(2, -11)))).isEqualTo((short) 0x3C02);
        // just above the tie rounds up
        assertThat(Fp16.toBits(f(1 + Math.pow(2, -11) + Math.pow(2, -20)))).isEqualTo((short) 0x3C01);
        assertThat(Fp16.toFloat((short) 0x3555)).isEqualTo(0.33325195f);
        assertThat(Fp16.fits(65504f)).isTrue();
        assertThat(Fp16.fits(65504.01f)).isFalse();
        assertThat(Fp16.fits(Float.NaN)).isFalse();
    }

    @Test
    void fp16RoundTripsEveryNonNanPattern() {
        for (int b = 0; b < 65536; b++) {
            short bits = (short) b;
            float v = Fp16.toFloat(bits);
            if (!Float.isNaN(v)) {
                assertThat(Fp16.toBits(v)).as("bits %04x", b).isEqualTo(bits);
            }
        }
    }

    @Test
    void bf16KnownBitsAndTiesToEven() {
        assertThat(Bf16.toBits(1f)).isEqualTo((short) 0x3F80);
        assertThat(Bf16.toBits(-1f)).isEqualTo((short) 0xBF80);
        assertThat(Bf16.toBits(f(1 + Math.pow(2, -8)))).isEqualTo((short) 0x3F80);     // tie → even
        assertThat(Bf16.toBits(f(1 + 3 * Math.pow(2, -8)))).isEqualTo((short) 0x3F82); // tie → even (up)
        assertThat(Bf16.toBits(f(1 + Math.pow(2, -8) + Math.pow(2, -20)))).isEqualTo((short) 0x3F81);
        assertThat(Bf16.toBits(f(1 + Math.pow(2, -8) - Math.pow(2, -20)))).isEqualTo((short) 0x3F80);
        assertThat(Bf16.toBits(0.1f)).isEqualTo((short) 0x3DCD); // 0x3DCCCCCD rounds up
        assertThat(Bf16.toBits(Float.MAX_VALUE)).isEqualTo((short) 0x7F80); // rounds to +Inf
        assertThat(Bf16.toFloat((short) 0x4049)).isEqualTo(3.140625f);
    }

    @Test
    void bf16NanStaysQuietNan() {
        // a signalling NaN whose payload sits only in the low 16 bits would truncate/round to Inf
        float snan = Float.intBitsToFloat(0x7F800001);
        assertThat(Float.isNaN(snan)).isTrue();
        short b = Bf16.toBits(snan);
        assertThat(b).isEqualTo((short) 0x7FC0);
        assertThat(Float.isNaN(Bf16.toFloat(b))).isTrue();
        assertThat(Bf16.toBits(Float.intBitsToFloat(0xFFFFFFFF))).isEqualTo((short) 0xFFFF);
    }

    @Test
    void bf16RoundTripsEveryNonNanPattern() {
        for (int b = 0; b < 65536; b++) {
            short bits = (short) b;
            float v = Bf16.toFloat(bits);
            if (!Float.isNaN(v)) {
                assertThat(Bf16.toBits(v)).as("bits %04x", b).isEqualTo(bits);
            }
        }
    }

    @Test
    void fp4NearestAndTies() {
        assertThat(Fp4E2M1.encode(0.25f)).isEqualTo(0);   // tie 0 | 0.5 → even index 0
        assertThat(Fp4E2M1.encode(0.75f)).isEqualTo(2);   // tie 0.5 | 1 → even index 2
        assertThat(Fp4E2M1.encode(1.25f)).isEqualTo(2);   // tie 1 | 1.5 → index 2
        assertThat(Fp4E2M1.encode(1.75f)).isEqualTo(4);   // tie 1.5 | 2 → index 4
        assertThat(Fp4E2M1.encode(2.5f)).isEqualTo(4);    // tie 2 | 3 → index 4
        assertThat(Fp4E2M1.encode(3.5f)).isEqualTo(6);    // tie 3 | 4 → index 6
        assertThat(Fp4E2M1.encode(5f)).isEqualTo(6);      // tie 4 | 6 → index 6
        assertThat(Fp4E2M1.encode(5.0001f)).isEqualTo(7);
        assertThat(Fp4E2M1.encode(0.2500001f)).isEqualTo(1);
        assertThat(Fp4E2M1.encode(6.5f)).isEqualTo(7);    // beyond 6 clamps
        assertThat(Fp4E2M1.encode(-3f)).isEqualTo(13);
        assertThat(Fp4E2M1.encode(-6.5f)).isEqualTo(15);
        assertThat(Fp4E2M1.encode(-0.1f)).isEqualTo(0);   // rounds to zero → nibble 0, never 8
        assertThat(Fp4E2M1.encode(-0.25f)).isEqualTo(0);
        assertThat(Fp4E2M1.encode(-0f)).isEqualTo(0);
        assertThat(Fp4E2M1.encode(-0.26f)).isEqualTo(9);
        for (int i = 0; i < 8; i++) {
            assertThat(Fp4E2M1.encode(Fp4E2M1.LEVELS[i])).isEqualTo(i);
            if (i > 0) {
                assertThat(Fp4E2M1.encode(-Fp4E2M1.LEVELS[i])).isEqualTo(8 + i);
            }
        }
    }

    @Test
    void fp4Decode() {
        assertThat(Fp4E2M1.decode(13)).isEqualTo(-3f);
        assertThat(Fp4E2M1.decode(7)).isEqualTo(6f);
        assertThat(Fp4E2M1.decode(9)).isEqualTo(-0.5f);
        assertThat(Float.floatToRawIntBits(Fp4E2M1.decode(8))).isEqualTo(Float.floatToRawIntBits(-0f));
    }

    @Test
    void nf4NearestAndTies() {
        for (int i = 0; i < 16; i++) {
            assertThat(Nf4.encode(Nf4.LEVELS[i])).isEqualTo(i);
            assertThat(Nf4.decode(i)).isEqualTo(Nf4.LEVELS[i]);
        }
        // midpoints 6|7 and 7|8 are exactly representable floats (half of a level): exact ties
        float mid67 = Nf4.LEVELS[6] / 2;
        float mid78 = Nf4.LEVELS[8] / 2;
        assertThat((double) mid67).isEqualTo(((double) Nf4.LEVELS[6] + 0.0) / 2);
        assertThat(Nf4.encode(mid67)).isEqualTo(6);                   // even index wins
        assertThat(Nf4.encode(mid78)).isEqualTo(8);                   // even index wins
        assertThat(Nf4.encode(Math.nextDown(mid78))).isEqualTo(7);
        assertThat(Nf4.encode(Math.nextUp(mid67))).isEqualTo(7);
        assertThat(Nf4.encode(0.5f)).isEqualTo(12);                   // 0.4407 is nearer than 0.5626
        assertThat(Nf4.encode(0.51f)).isEqualTo(13);
        assertThat(Nf4.encode(1.5f)).isEqualTo(15);
        assertThat(Nf4.encode(-2f)).isEqualTo(0);
        assertThat(Nf4.INT8_TABLE).hasSize(16);
        for (int i = 0; i < 16; i++) {
            assertThat(Nf4.INT8_TABLE[i]).isEqualTo((int) Math.round(127.0 * Nf4.LEVELS[i]));
        }
    }

    @Test
    void nibblePackingIsLeastSignificantFirst() {
        assertThat(Nibbles.pack(new int[] {1, 2, 3, 4, 5, 6, 7, 8})).containsExactly(0x87654321);
        assertThat(Nibbles.pack(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9})).containsExactly(0x87654321, 0x9);
        assertThat(Nibbles.pack(new int[] {15, 0, 0, 0, 0, 0, 0, 15})).containsExactly(0xF000000F);
        assertThat(Nibbles.pack(new int[] {0xA, 0xB, 0xC})).containsExactly(0xCBA);
        int[] codes = {3, 14, 0, 9, 15, 1, 7, 8, 2, 11, 5};
        assertThat(Nibbles.unpack(Nibbles.pack(codes), codes.length)).containsExactly(codes);
        assertThat(Nibbles.wordsFor(8)).isEqualTo(1);
        assertThat(Nibbles.wordsFor(9)).isEqualTo(2);
        assertThatThrownBy(() -> Nibbles.pack(new int[] {1, 16}))
                .hasMessage("code 16 at index 1 is not a nibble (0..15)");
    }
}
