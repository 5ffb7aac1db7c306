package io.quantgate.runtime.safetensors;

import java.util.Arrays;
import java.util.Optional;

/**
 * The element types of the safetensors format that occupy whole bytes. Every one of them can be
 * <em>parsed</em> (its size is needed to validate a file's offsets); only {@link #F32}, {@link #F16} and
 * {@link #BF16} can be read as floats: QuantGate quantizes from full-precision weights, and silently
 * "dequantizing" an int8 or fp8 checkpoint without its scales would give wrong numbers.
 */
public enum SafetensorsDtype {
    F64(8), F32(4), F16(2), BF16(2),
    I64(8), I32(4), I16(2), I8(1),
    U64(8), U32(4), U16(2), U8(1),
    BOOL(1), F8_E4M3(1), F8_E5M2(1), F8_E8M0(1);

    private final int bytes;

    SafetensorsDtype(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** Whether {@link SafetensorsFile#floats} can convert this type (F32, F16, BF16). */
    public boolean isReadableAsFloat() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The dtype spelled exactly as in a safetensors header ({@code "BF16"}), if it is one of these. */
    public static Optional<SafetensorsDtype> fromHeader(String name) {
        return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
    }

    /** The float types QuantGate reads and writes, for error messages. */
    public static String readable() {
        return "F32, F16, BF16";
    }
}
