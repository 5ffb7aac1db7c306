package io.quantgate.runtime.gguf;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One metadata value with its GGUF type. {@code value} has the Java type {@link GgufValueType} documents;
 * for an {@link GgufValueType#ARRAY} it is a primitive array (numbers, booleans), a {@code List<String>}
 * (strings) or a {@code List<GgufValue>} (arrays of arrays), and {@code elementType} says which.
 *
 * <p>Writers use the factories for the types plain Java values cannot express (unsigned integers,
 * typed arrays); {@link #infer(Object)} maps ordinary Java values to their natural GGUF type.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if ((type == GgufValueType.ARRAY) != (elementType != null)) {
            throw new IllegalArgumentException("an element type is given exactly for arrays, got " + type + " of "
                    + elementType);
        }
        checkJavaType(type, elementType, value);
    }

    public static GgufValue of(GgufValueType type, Object value) {
        return new GgufValue(type, null, value);
    }

    public static GgufValue array(GgufValueType elementType, Object values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, values);
    }

    public static GgufValue uint32(long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("uint32 value " + v + " is out of range");
        }
        return of(GgufValueType.UINT32, v);
    }

    public static GgufValue string(String s) {
        return of(GgufValueType.STRING, s);
    }

    public static GgufValue strings(List<String> s) {
        return array(GgufValueType.STRING, List.copyOf(s));
    }

    /**
     * The natural GGUF type of a Java value: Byte→INT8, Short→INT16, Integer→INT32, Long→INT64,
     * Float→FLOAT32, Double→FLOAT64, Boolean→BOOL, String→STRING, primitive arrays→arrays of those,
     * a List of Strings→string array; a {@code GgufValue} is returned as is.
     */
    public static GgufValue infer(Object v) {
        Objects.requireNonNull(v, "value");
        return switch (v) {
            case GgufValue g -> g;
            case Byte b -> of(GgufValueType.INT8, b);
            case Short s -> of(GgufValueType.INT16, s);
            case Integer i -> of(GgufValueType.INT32, i);
            case Long l -> of(GgufValueType.INT64, l);
            case Float f -> of(GgufValueType.FLOAT32, f);
            case Double d -> of(GgufValueType.FLOAT64, d);
            case Boolean b -> of(GgufValueType.BOOL, b);
            case String s -> of(GgufValueType.STRING, s);
            case byte[] a -> array(GgufValueType.INT8, a);
            case short[] a -> array(GgufValueType.INT16, a);
            case int[] a -> array(GgufValueType.INT32, a);
            case long[] a -> array(GgufValueType.INT64, a);
            case float[] a -> array(GgufValueType.FLOAT32, a);
            case double[] a -> array(GgufValueType.FLOAT64, a);
            case boolean[] a -> array(GgufValueType.BOOL, a);
            case List<?> list when list.stream().allMatch(e -> e instanceof String) ->
                    array(GgufValueType.STRING, List.copyOf(list));
            case List<?> list when list.stream().allMatch(e -> e instanceof GgufValue) ->
                    array(GgufValueType.ARRAY, List.copyOf(list));
            default -> throw new IllegalArgumentException("no GGUF type for a " + v.getClass().getName()
                    + "; wrap it in a GgufValue");
        };
    }

    /** Elements of an array value. */
    public long length() {
        if (type != GgufValueType.ARRAY) {
            throw new IllegalStateException(type + " is not an array");
        }
        return switch (value) {
            case List<?> l -> l.size();
            default -> java.lang.reflect.Array.getLength(value);
        };
    }

    private static void checkJavaType(GgufValueType type, GgufValueType element, Object v) {
        Class<?> expected = switch (type) {
            case UINT8, INT16 -> Short.class;
            case INT8 -> Byte.class;
            case UINT16, INT32 -> Integer.class;
            case UINT32, UINT64, INT64 -> Long.class;
            case FLOAT32 -> Float.class;
            case FLOAT64 -> Double.class;
            case BOOL -> Boolean.class;
            case STRING -> String.class;
            case ARRAY -> switch (element) {
                case UINT8, INT16 -> short[].class;
                case INT8 -> byte[].class;
                case UINT16, INT32 -> int[].class;
                case UINT32, UINT64, INT64 -> long[].class;
                case FLOAT32 -> float[].class;
                case FLOAT64 -> double[].class;
                case BOOL -> boolean[].class;
                case STRING, ARRAY -> List.class;
            };
        };
        if (!expected.isInstance(v)) {
            throw new IllegalArgumentException("a GGUF " + type + (element != null ? " of " + element : "")
                    + " value is a " + expected.getSimpleName() + ", got a " + v.getClass().getSimpleName());
        }
        if (v instanceof List<?> l) {
            Class<?> e = element == GgufValueType.STRING ? String.class : GgufValue.class;
            for (Object o : l) {
                if (!e.isInstance(o)) {
                    throw new IllegalArgumentException("a GGUF array of " + element + " holds " + e.getSimpleName()
                            + "s, got " + (o == null ? "null" : o.getClass().getSimpleName()));
                }
            }
        }
        GgufValueType scalar = type == GgufValueType.ARRAY ? element : type;
        long range = switch (scalar) {
            case UINT8 -> 0xFF;
            case UINT16 -> 0xFFFF;
            case UINT32 -> 0xFFFF_FFFFL;
            default -> -1;
        };
        if (range > 0) {
            // the wider Java type can hold numbers the unsigned GGUF type cannot; refuse them rather than wrap
            switch (v) {
                case Number n -> checkRange(scalar, n.longValue(), range);
                case short[] a -> {
                    for (short x : a) {
                        checkRange(scalar, x, range);
                    }
                }
                case int[] a -> {
                    for (int x : a) {
                        checkRange(scalar, x, range);
                    }
                }
                case long[] a -> {
                    for (long x : a) {
                        checkRange(scalar, x, range);
                    }
                }
                default -> throw new AssertionError(v.getClass());
            }
        }
    }

    private static void checkRange(GgufValueType type, long v, long max) {
        if (v < 0 || v > max) {
            throw new IllegalArgumentException("GGUF " + type + " value " + v + " is out of range 0.." + max);
        }
    }

    /** Value equality, comparing array contents. */
    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue g && type == g.type && elementType == g.elementType
                && Objects.deepEquals(value, g.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, elementType, value.getClass().isArray() ? 0 : value);
    }

    @Override
    public String toString() {
        String s = switch (value) {
            case float[] a -> preview(Arrays.toString(a));
            case int[] a -> preview(Arrays.toString(a));
            case long[] a -> preview(Arrays.toString(a));
            case short[] a -> preview(Arrays.toString(a));
            case byte[] a -> preview(Arrays.toString(a));
            case double[] a -> preview(Arrays.toString(a));
            case boolean[] a -> preview(Arrays.toString(a));
            default -> preview(String.valueOf(value));
        };
        return (type == GgufValueType.ARRAY ? "ARRAY<" + elementType + ">" : type.name()) + " " + s;
    }

    private static String preview(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
