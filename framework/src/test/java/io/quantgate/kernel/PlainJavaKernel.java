package io.quantgate.kernel;

import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A user's kernel as the simplest Java can write it: dequantize a row (QuantGate's oracle does that exactly), dot it
 * with each activation row in fp32. Subclasses break it on purpose, as the tests need.
 */
public class PlainJavaKernel implements LinearKernel {

    @Override
    public String name() {
        return "plain-java";
    }

    @Override
    public String description() {
        return "a plain Java test kernel";
    }

    @Override
    public java.util.Set<ActivationMode> activationModes() {
        return java.util.EnumSet.of(ActivationMode.FP32);
    }

    /** Row {@code r} of the weights as the kernel reads them. */
    protected float[] row(QuantizedMatrix w, int r) {
        return w.dequantizeRow(r);
    }

    @Override
    public PreparedLinear prepare(QuantizedMatrix w, ActivationMode activations) {
        int n = w.rows(), k = w.cols();
        float[][] rows = new float[n][];
        for (int r = 0; r < n; r++) {
            rows[r] = row(w, r);
        }
        return new PreparedLinear() {
            @Override
            public String describe() {
                return name() + " " + w.config();
            }

            @Override
            public long preparedBytes() {
                return 4L * n * k;
            }

            @Override
            public void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
                for (int i = 0; i < m; i++) {
                    for (int r = 0; r < n; r++) {
                        float acc = 0;
                        float[] wr = rows[r];
                        for (int c = 0; c < k; c++) {
                            acc += wr[c] * x.getAtIndex(ValueLayout.JAVA_FLOAT, i * ldx + c);
                        }
                        y.setAtIndex(ValueLayout.JAVA_FLOAT, i * ldy + r, acc);
                    }
                }
            }

            @Override
            public void close() {
            }
        };
    }

    /** Reads every 4-bit byte high nibble first: the classic nibble-order bug. */
    public static final class WrongNibbles extends PlainJavaKernel {
        @Override
        public String name() {
            return "wrong-nibbles";
        }

        @Override
        protected float[] row(QuantizedMatrix w, int r) {
            float[] good = w.dequantizeRow(r);
            if (!w.format().isFourBit()) {
                return good;
            }
            float[] swapped = good.clone();
            for (int c = 0; c + 1 < good.length; c += 2) {
                swapped[c] = good[c + 1];
                swapped[c + 1] = good[c];
            }
            return swapped;
        }
    }
}
