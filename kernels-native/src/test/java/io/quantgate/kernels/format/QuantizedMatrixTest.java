package io.quantgate.kernels.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class QuantizedMatrixTest {
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void compressionRatioInt4G128() {
        long n = 4096;
        long k = 4096;
        QuantizedMatrix m = QuantizedMatrix.allocate(ConfigId.parse("int4-g128"), 4096, 4096, arena);
        assertThat(m.codeBytes()).isEqualTo(n * k / 2);
        assertThat(m.scaleBytes()).isEqualTo(n * 32 * 2);
        assertThat(m.zeroBytes()).isEqualTo(n * 32);
        assertThat(m.packedBytes()).isEqualTo(n * k / 2 + n * 32 * 2 + n * 32);
        assertThat(m.compressionRatio()).isEqualTo(2.0 * n * k / (n * k / 2 + n * 32 * 2 + n * 32));
        assertThat(m.compressionRatio()).isCloseTo(3.8209, org.assertj.core.data.Offset.offset(1e-4));
    }

    @Test
    void compressionRatioOtherFormats() {
        assertThat(QuantizedMatrix.allocate(ConfigId.parse("fp16"), 64, 100, arena).compressionRatio()).isEqualTo(1.0);
        assertThat(QuantizedMatrix.allocate(ConfigId.parse("fp32"), 64, 100, arena).compressionRatio()).isEqualTo(0.5);
        assertThat(QuantizedMatrix.allocate(ConfigId.parse("int8"), 64, 100, arena).compressionRatio())
                .isEqualTo(2.0 * 64 * 100 / (64 * 100 + 64 * 2));
        QuantizedMatrix fp4 = QuantizedMatrix.allocate(ConfigId.parse("fp4-g32"), 10, 100, arena);
        assertThat(fp4.codeBytes()).isEqualTo(10 * 4 * 13);  // ceil(100/8) = 13 words a row
        assertThat(fp4.scaleBytes()).isEqualTo(10 * 4 * 2);  // G = ceil(100/32) = 4
        assertThat(fp4.zeroBytes()).isZero();
    }

    @Test
    void segmentsAre64ByteAligned() {
        QuantizedMatrix m = QuantizedMatrix.random(ConfigId.parse("int4-g32"), 3, 77, 1, arena);
        assertThat(m.codes().address() % 64).isZero();
        assertThat(m.scales().address() % 64).isZero();
        assertThat(m.zeros().address() % 64).isZero();
    }

    @Test
    void ofValidatesEverySize() {
        ConfigId int4 = ConfigId.parse("int4-g32");
        MemorySegment codes = arena.allocate(2 * 4 * 9);   // 2 rows x ceil(70/8)=9 words
        MemorySegment scales = arena.allocate(2 * 3 * 2);  // G = 3
        MemorySegment zeros = arena.allocate(2 * 3);
        QuantizedMatrix ok = QuantizedMatrix.of(int4, 2, 70, codes, scales, zeros);
        assertThat(ok.groupsPerRow()).isEqualTo(3);
        assertThatThrownBy(() -> QuantizedMatrix.of(int4, 2, 70, arena.allocate(70), scales, zeros))
                .hasMessage("codes of int4-g32 2x70 must be 72 bytes (2 rows x 36), got 70");
        assertThatThrownBy(() -> QuantizedMatrix.of(int4, 2, 70, codes, arena.allocate(8), zeros))
                .hasMessage("scales of int4-g32 2x70 must be 12 bytes (fp16 [2][3]), got 8");
        assertThatThrownBy(() -> QuantizedMatrix.of(int4, 2, 70, codes, scales, null))
                .hasMessage("zeros of int4-g32 2x70 must be 6 bytes (uint8 [2][3]), got 0");
        assertThatThrownBy(() -> QuantizedMatrix.of(ConfigId.parse("fp4-g32"), 2, 70, codes, scales, zeros))
                .hasMessageContaining("must be MemorySegment.NULL (only int4 has zero points), got 6 bytes");
        assertThatThrownBy(() -> QuantizedMatrix.of(ConfigId.parse("fp16"), 2, 70, arena.allocate(280), scales, null))
                .hasMessageContaining("must be MemorySegment.NULL (dense formats have no scales)");
        assertThatThrownBy(() -> QuantizedMatrix.of(int4, 0, 70, codes, scales, zeros))
                .hasMessageContaining("must be positive");
        MemorySegment badZeros = arena.allocate(2 * 3);
        badZeros.set(ValueLayout.JAVA_BYTE, 4, (byte) 16); // row 1, group 1
        assertThatThrownBy(() -> QuantizedMatrix.of(int4, 2, 70, codes, scales, badZeros))
                .hasMessage("zeros of int4-g32 2x70: int4 zero point 16 at row 1, group 1 is outside 0..15");
        badZeros.set(ValueLayout.JAVA_BYTE, 4, (byte) 15);
        assertThat(QuantizedMatrix.of(int4, 2, 70, codes, scales, badZeros).zeros().byteSize()).isEqualTo(6);
        QuantizedMatrix dense = QuantizedMatrix.of(ConfigId.parse("fp16"), 2, 70, arena.allocate(280), null, null);
        assertThat(dense.scales()).isEqualTo(MemorySegment.NULL);
        assertThat(dense.groupsPerRow()).isZero();
    }

    @Test
    void wrapsExistingDataWithoutCopy() {
        MemorySegment codes = arena.allocate(4);
        codes.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, 0x00000F21);
        MemorySegment scales = arena.allocate(2);
        scales.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, (short) 0x3800);
        QuantizedMatrix m = QuantizedMatrix.of(ConfigId.parse("int4s-g32"), 1, 3, codes, scales, null);
        assertThat(m.dequantizeRow(0)).containsExactly(0.5f, 1f, -0.5f);   // nibbles 1, 2, F
        assertThat(m.dequantize()).containsExactly(0.5f, 1f, -0.5f);
    }

    @Test
    void randomContentIsValidAndDeterministic() {
        for (String id : new String[] {"fp32", "fp16", "bf16", "int8", "int8-g64", "int4-g32", "int4s", "fp4-g64", "nf4"}) {
            ConfigId cfg = ConfigId.parse(id);
            QuantizedMatrix a = QuantizedMatrix.random(cfg, 37, 203, 42, arena);
            QuantizedMatrix b = QuantizedMatrix.random(cfg, 37, 203, 42, arena);
            QuantizedMatrix c = QuantizedMatrix.random(cfg, 37, 203, 43, arena);
            assertThat(a.codes().mismatch(b.codes())).as(id).isEqualTo(-1);
            assertThat(a.codes().mismatch(c.codes())).as(id).isNotEqualTo(-1);
            for (int r = 0; r < 37; r++) {
                for (float v : a.dequantizeRow(r)) {
                    assertThat(Float.isFinite(v)).as(id).isTrue();
                }
                for (int g = 0; g < a.groupsPerRow(); g++) {
                    assertThat(a.scale(r, g)).as(id).isBetween(0.0078125f, 0.03125f);
                    assertThat(a.zero(r, g)).as(id).isBetween(0, 15);
                }
                if (cfg.format() == WeightFormat.INT8) {
                    for (int k = 0; k < 203; k++) {
                        assertThat(a.code(r, k)).isBetween(-127, 127);
                    }
                }
                if (cfg.format().isFourBit()) {
                    // 203 % 8 == 3: nibbles 3..7 of the last word must be 0
                    int last = a.codes().get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                            r * a.rowBytes() + a.rowBytes() - 4);
                    assertThat(last >>> 12).as(id).isZero();
                }
            }
        }
    }

    @Test
    void randomNeverProducesInt8Minus128() {
        QuantizedMatrix m = QuantizedMatrix.random(ConfigId.parse("int8"), 64, 4096, 5, arena);
        int plus127 = 0;
        for (long i = 0; i < m.codeBytes(); i++) {
            byte b = m.codes().get(ValueLayout.JAVA_BYTE, i);
            assertThat(b).isNotEqualTo((byte) -128);
            plus127 += b == -127 ? 1 : 0;
        }
        assertThat(plus127).isGreaterThan(0);
    }

    @Test
    @SuppressWarnings("restricted")  // NULL.reinterpret: a fake, never-touched segment of the right size
    void dequantizeRefusesMatricesBeyondAJavaArray() {
        ConfigId fp4 = ConfigId.parse("fp4-g128");
        int n = 65536;
        int k = 32768;      // 2^31 values
        long codeBytes = (long) n * k / 2;
        MemorySegment codes = MemorySegment.NULL.reinterpret(codeBytes);
        MemorySegment scales = MemorySegment.NULL.reinterpret(2L * n * (k / 128));
        QuantizedMatrix m = QuantizedMatrix.of(fp4, n, k, codes, scales, null);
        assertThat(m.packedBytes()).isEqualTo(codeBytes + 2L * n * 256);
        assertThatThrownBy(m::dequantize)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("use dequantizeRow");
    }

    @Test
    void accessorsCheckBounds() {
        QuantizedMatrix m = QuantizedMatrix.allocate(ConfigId.parse("int8"), 2, 3, arena);
        assertThatThrownBy(() -> m.code(2, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.dequantizeRow(-1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> QuantizedMatrix.allocate(ConfigId.parse("fp16"), 1, 1, arena).scale(0, 0))
                .isInstanceOf(IllegalStateException.class);
    }
}
