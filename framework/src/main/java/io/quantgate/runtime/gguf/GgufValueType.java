package io.quantgate.runtime.gguf;

import java.util.Optional;

/**
 * The metadata value types of GGUF ({@code gguf_metadata_value_type}) and the Java type each is read as.
 * Unsigned types widen to the next larger Java type so that every value keeps its number, except
 * {@code UINT64}, which is a {@code long} holding the raw 64 bits.
 */
public enum GgufValueType {
    /** {@code Short} 0..255; arrays {@code short[]}. */
    UINT8(0, 1),
    /** {@code Byte}; arrays {@code byte[]}. */
    INT8(1, 1),
    /** {@code Integer} 0..65535; arrays {@code int[]}. */
    UINT16(2, 2),
    /** {@code Short}; arrays {@code short[]}. */
    INT16(3, 2),
    /** {@code Long} 0..2³²−1; arrays {@code long[]}. */
    UINT32(4, 4),
    /** {@code Integer}; arrays {@code int[]}. */
    INT32(5, 4),
    /** {@code Float}; arrays {@code float[]}. */
    FLOAT32(6, 4),
    /** {@code Boolean} (a byte 0 or 1); arrays {@code boolean[]}. */
    BOOL(7, 1),
    /** {@code String} (uint64 length + UTF-8 bytes); arrays {@code List<String>}. */
    STRING(8, -1),
    /** uint32 element type + uint64 count + elements; see {@link GgufValue}. */
    ARRAY(9, -1),
    /** {@code Long} (raw bits); arrays {@code long[]}. */
    UINT64(10, 8),
    /** {@code Long}; arrays {@code long[]}. */
    INT64(11, 8),
    /** {@code Double}; arrays {@code double[]}. */
    FLOAT64(12, 8);

    private final int id;
    private final int size;

    GgufValueType(int id, int size) {
        this.id = id;
        this.size = size;
    }

    public int id() {
        return id;
    }

    /** Bytes of one value; −1 for the variable-size STRING and ARRAY. */
    public int size() {
        return size;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public static Optional<GgufValueType> byId(int id) {
        for (GgufValueType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
