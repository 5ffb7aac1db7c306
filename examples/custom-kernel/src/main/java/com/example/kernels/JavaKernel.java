package com.example.kernels;

import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.PreparedLinear;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.Set;

/**
 * The user's kernel in plain Java: int4s weights copied once into its own arrays (its "repacking"), decoded and
 * multiplied in fused loops on every call.
 */
public class JavaKernel implements LinearKernel {

    @Override
    public String name() {
        return "example-java";
    }

    @Override
    public String description() {
        return "the example's plain Java int4s kernel";
    }

    @Override
    public Set<WeightFormat> formats() {
        return EnumSet.of(WeightFormat.INT4S);
    }

    @Override
    public Set<ActivationMode> activationModes() {
        return EnumSet.of(ActivationMode.FP32);
    }

    /** The signed 4-bit value of K index {@code c} in a row's bytes. */
    protected int nibble(byte[] row, int c) {
        int b = row[c >> 1] & 0xFF;
        int q = (c & 1) == 0 ? b & 15 : b >> 4;
        return q >= 8 ? q - 16 : q;
    }

    @Override
    public PreparedLinear prepare(QuantizedMatrix w, ActivationMode activations) {
        int n = w.rows(), k = w.cols(), group = w.groupSize(), groups = w.groupsPerRow();
        int rowBytes = (int) w.rowBytes();
        byte[][] codes = new byte[n][];
        float[] scales = new float[n * groups];
        for (int r = 0; r < n; r++) {
            codes[r] = w.codes().asSlice((long) r * rowBytes, rowBytes).toArray(ValueLayout.JAVA_BYTE);
            for (int g = 0; g < groups; g++) {
                scales[r * groups + g] = w.scale(r, g);
            }
        }
        return new PreparedLinear() {
            @Override
            public String describe() {
                return name() + " " + w.config() + ", fp32 activations (its own byte[] rows)";
            }

            @Override
            public long preparedBytes() {
                return (long) n * rowBytes + 4L * n * groups;
            }

            @Override
            public void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
                for (int i = 0; i < m; i++) {
                    for (int r = 0; r < n; r++) {
                        float acc = 0;
                        for (int g = 0; g < groups; g++) {
                            float s = scales[r * groups + g];
                            int end = Math.min(k, (g + 1) * group);
                            for (int c = g * group; c < end; c++) {
                                acc += nibble(codes[r], c) * s * x.getAtIndex(ValueLayout.JAVA_FLOAT, i * ldx + c);
                            }
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

    /** The classic bug: the high nibble of each byte read first. */
    public static final class WrongNibbleOrder extends JavaKernel {
        @Override
        public String name() {
            return "example-java-wrong-nibbles";
        }

        @Override
        protected int nibble(byte[] row, int c) {
            int b = row[c >> 1] & 0xFF;
            int q = (c & 1) == 0 ? b >> 4 : b & 15;
            return q >= 8 ? q - 16 : q;
        }
    }
}
