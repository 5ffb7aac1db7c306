package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.Fp16;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;

/** Byte and rounding helpers shared by the block codecs. */
final class Blocks {
    private Blocks() {
    }

    static short le16(byte[] b, int at) {
        return (short) ((b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8);
    }

    static void putLe16(byte[] b, int at, short v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }

    /** C's {@code roundf}: nearest integer, ties away from zero (in double, so |v| + 0.5 is exact). */
    static int roundHalfAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }

    static void checkWhole(int n, int block, String type, String what) {
        if (n < 0 || n % block != 0) {
            throw new IllegalArgumentException(what + ": " + type + " stores whole blocks of " + block
                    + " values, got " + n + " values");
        }
    }

    static float finite(float v, int index, String what) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException(what + ": value " + v + " at index " + index + " cannot be quantized");
        }
        return v;
    }

    /** The fp16 bits of a block scale, refusing a scale beyond the fp16 range (it would decode as Inf). */
    static short fp16Scale(float d, int firstIndex, String what) {
        short bits = Fp16.toBits(d);
        if (!Float.isFinite(Fp16.toFloat(bits))) {
            throw new IllegalArgumentException(what + ": the block starting at index " + firstIndex + " needs scale "
                    + d + ", beyond fp16's range; store this tensor as F32");
        }
        return bits;
    }

    static void checkScale(short bits, int block) {
        if (!Float.isFinite(Fp16.toFloat(bits))) {
            throw new IllegalArgumentException("fp16 scale of block " + block + " is " + Fp16.toFloat(bits));
        }
    }

    static void checkGroup32(QuantizedMatrix m, WeightFormat format, String ggml, String id) {
        if (m.format() != format || m.groupSize() != 32 || m.cols() % 32 != 0) {
            throw new IllegalArgumentException(ggml + " holds exactly " + id + " with a multiple of 32 columns; got "
                    + m.config() + " with " + m.cols() + " columns (group " + m.groupSize() + ")");
        }
    }
}
