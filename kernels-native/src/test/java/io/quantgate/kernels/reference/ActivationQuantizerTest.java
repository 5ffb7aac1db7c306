package io.quantgate.kernels.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ActivationQuantizerTest {

    @Test
    void specificValuesWithShortLastBlock() {
        float[] x = new float[40];
        float[] b0 = {127f, -3.5f, 2.49f, 0.5f, -0.4f, 126.5f, -127f, 1.5f};
        System.arraycopy(b0, 0, x, 0, b0.length);
        float[] b1 = {63.5f, 1f, -0.75f, 0.2f, -63.5f};
        System.arraycopy(b1, 0, x, 32, b1.length);
        QuantizedActivations qa = ActivationQuantizer.quantize(x, 1, 40);
        assertThat(qa.blocksPerRow()).isEqualTo(2);
        assertThat(qa.scales()).containsExactly(1f, 0.5f);
        // (int)(|x/sx| + 0.5f): halves round up in magnitude, sign restored afterwards
        assertThat(java.util.Arrays.copyOfRange(qa.q(), 0, 8))
                .containsExactly(127, -4, 2, 1, 0, 127, -127, 2);
        assertThat(java.util.Arrays.copyOfRange(qa.q(), 32, 40))
                .containsExactly(127, 2, -2, 0, -127, 0, 0, 0);
    }

    @Test
    void scaleIsAbsmaxOver127InFloat() {
        float[] x = {0.3f, -1.7f, 0.01f};
        QuantizedActivations qa = ActivationQuantizer.quantize(x, 1, 3);
        float sx = 1.7f / 127f;
        assertThat(qa.scale(0, 0)).isEqualTo(sx);
        assertThat(qa.q()).containsExactly((byte) (int) (0.3f / sx + 0.5f), (byte) -127, (byte) (int) (0.01f / sx + 0.5f));
        assertThat(qa.q()[0]).isEqualTo((byte) 22);   // 0.3/0.013386 = 22.41
        assertThat(qa.q()[2]).isEqualTo((byte) 1);    // 0.747 + 0.5
    }

    @Test
    void zeroBlockAndNonFiniteBlock() {
        float[] x = new float[2 * 64];
        // row 0: block 0 all zero, block 1 normal
        x[40] = 2.54f;
        // row 1: block 0 holds a NaN next to finite values; block 1 holds +Inf
        x[64] = 5f;
        x[65] = Float.NaN;
        x[64 + 33] = Float.POSITIVE_INFINITY;
        x[64 + 34] = 1f;
        QuantizedActivations qa = ActivationQuantizer.quantize(x, 2, 64);
        assertThat(qa.scale(0, 0)).isEqualTo(0f);
        assertThat(qa.scale(0, 1)).isEqualTo(2.54f / 127f);
        assertThat(qa.q()[40]).isEqualTo((byte) 127);
        assertThat(qa.scale(1, 0)).isNaN();
        assertThat(qa.scale(1, 1)).isNaN();
        for (int c = 0; c < 64; c++) {
            assertThat(qa.q()[64 + c]).isZero();
            if (c != 40) {
                assertThat(qa.q()[c]).isZero();
            }
        }
    }

    @Test
    void shapeChecked() {
        assertThatThrownBy(() -> ActivationQuantizer.quantize(new float[5], 2, 3))
                .hasMessage("5 activations given for shape 2x3");
    }
}
