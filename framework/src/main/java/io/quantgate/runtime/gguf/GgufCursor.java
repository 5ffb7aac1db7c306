package io.quantgate.runtime.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Bounds-checked little-endian reading of a GGUF header from a mapped file. Every read first checks that
 * the bytes exist, and every count is checked against the bytes left before anything is allocated, so a
 * truncated or corrupt file gives an {@link IllegalArgumentException} naming the file and the field,
 * never an out-of-memory error or an index exception.
 */
final class GgufCursor {
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble LE_DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Arrays of arrays nest at most this deep; real files nest 1 level, and recursion must stay bounded. */
    private static final int MAX_NESTING = 8;

    private final MemorySegment seg;
    private final Path file;
    private long pos;

    GgufCursor(MemorySegment seg, Path file) {
        this.seg = seg;
        this.file = file;
    }

    long position() {
        return pos;
    }

    long remaining() {
        return seg.byteSize() - pos;
    }

    IllegalArgumentException corrupt(String what) {
        return new IllegalArgumentException("GGUF file " + file + " is corrupt: " + what);
    }

    private void need(long bytes, String what) {
        if (bytes < 0 || bytes > remaining()) {
            throw new IllegalArgumentException("GGUF file " + file + " is truncated: " + what + " at byte " + pos
                    + " needs " + (bytes < 0 ? Long.toUnsignedString(bytes) : bytes) + " bytes, only "
                    + remaining() + " remain (file size " + seg.byteSize() + ")");
        }
    }

    int u8(String what) {
        need(1, what);
        return seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
    }

    int i32(String what) {
        need(4, what);
        int v = seg.get(LE_INT, pos);
        pos += 4;
        return v;
    }

    long u32(String what) {
        return Integer.toUnsignedLong(i32(what));
    }

    long i64(String what) {
        need(8, what);
        long v = seg.get(LE_LONG, pos);
        pos += 8;
        return v;
    }

    /** A uint64 count or size, which must be below 2⁶³ and (when {@code each > 0}) fit the rest of the file. */
    long count(String what, long each) {
        long n = i64(what);
        if (n < 0 || (each > 0 && n > remaining() / each)) {
            throw new IllegalArgumentException("GGUF file " + file + " is truncated or corrupt: " + what + " is "
                    + Long.toUnsignedString(n) + ", but only " + remaining() + " bytes remain"
                    + (each > 1 ? " (each needs at least " + each + ")" : ""));
        }
        return n;
    }

    String string(String what) {
        long len = count(what + " length", 1);
        byte[] b = new byte[Math.toIntExact(len)];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, b, 0, b.length);
        pos += len;
        return new String(b, StandardCharsets.UTF_8);
    }

    GgufValueType valueType(String what) {
        int id = i32(what);
        return GgufValueType.byId(id).orElseThrow(() -> corrupt(what + " is " + Integer.toUnsignedString(id)
                + ", not a GGUF metadata value type (0..12)"));
    }

    GgufValue value(GgufValueType type, String what) {
        return value(type, what, 0);
    }

    private GgufValue value(GgufValueType type, String what, int depth) {
        return switch (type) {
            case UINT8 -> GgufValue.of(type, (short) u8(what));
            case INT8 -> GgufValue.of(type, (byte) u8(what));
            case UINT16 -> GgufValue.of(type, (int) (char) i16(what));
            case INT16 -> GgufValue.of(type, i16(what));
            case UINT32 -> GgufValue.of(type, u32(what));
            case INT32 -> GgufValue.of(type, i32(what));
            case FLOAT32 -> GgufValue.of(type, Float.intBitsToFloat(i32(what)));
            case BOOL -> GgufValue.of(type, u8(what) != 0);
            case STRING -> GgufValue.of(type, string(what));
            case UINT64, INT64 -> GgufValue.of(type, i64(what));
            case FLOAT64 -> GgufValue.of(type, Double.longBitsToDouble(i64(what)));
            case ARRAY -> array(what, depth);
        };
    }

    private short i16(String what) {
        need(2, what);
        short v = seg.get(LE_SHORT, pos);
        pos += 2;
        return v;
    }

    private GgufValue array(String what, int depth) {
        if (depth >= MAX_NESTING) {
            throw corrupt(what + " nests arrays more than " + MAX_NESTING + " deep");
        }
        GgufValueType et = valueType(what + " element type");
        // strings take ≥ 8 bytes (their length), nested arrays ≥ 12 (type + count)
        long each = switch (et) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> et.size();
        };
        long n = count(what + " element count", each);
        if (n > Integer.MAX_VALUE - 8) {
            throw corrupt(what + " has " + n + " elements, more than a Java array holds");
        }
        int len = (int) n;
        Object v = switch (et) {
            case UINT8 -> {
                short[] a = new short[len];
                for (int i = 0; i < len; i++) {
                    a[i] = (short) (seg.get(ValueLayout.JAVA_BYTE, pos + i) & 0xFF);
                }
                yield a;
            }
            case INT8 -> {
                byte[] a = new byte[len];
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, a, 0, len);
                yield a;
            }
            case UINT16 -> {
                int[] a = new int[len];
                for (int i = 0; i < len; i++) {
                    a[i] = seg.get(LE_SHORT, pos + 2L * i) & 0xFFFF;
                }
                yield a;
            }
            case INT16 -> {
                short[] a = new short[len];
                MemorySegment.copy(seg, LE_SHORT, pos, a, 0, len);
                yield a;
            }
            case UINT32 -> {
                long[] a = new long[len];
                for (int i = 0; i < len; i++) {
                    a[i] = Integer.toUnsignedLong(seg.get(LE_INT, pos + 4L * i));
                }
                yield a;
            }
            case INT32 -> {
                int[] a = new int[len];
                MemorySegment.copy(seg, LE_INT, pos, a, 0, len);
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[len];
                MemorySegment.copy(seg, LE_FLOAT, pos, a, 0, len);
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[len];
                for (int i = 0; i < len; i++) {
                    a[i] = seg.get(ValueLayout.JAVA_BYTE, pos + i) != 0;
                }
                yield a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[len];
                MemorySegment.copy(seg, LE_LONG, pos, a, 0, len);
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[len];
                MemorySegment.copy(seg, LE_DOUBLE, pos, a, 0, len);
                yield a;
            }
            case STRING -> {
                List<String> a = new ArrayList<>(len);
                for (int i = 0; i < len; i++) {
                    a.add(string(what + "[" + i + "]"));
                }
                yield a;
            }
            case ARRAY -> {
                List<GgufValue> a = new ArrayList<>(len);
                for (int i = 0; i < len; i++) {
                    a.add(array(what + "[" + i + "]", depth + 1));
                }
                yield a;
            }
        };
        if (et.size() > 0) {
            pos += n * et.size();
        }
        return GgufValue.array(et, et == GgufValueType.STRING || et == GgufValueType.ARRAY
                ? java.util.Collections.unmodifiableList((List<?>) v) : v);
    }
}
