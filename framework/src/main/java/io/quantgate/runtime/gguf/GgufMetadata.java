package io.quantgate.runtime.gguf;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The metadata key/value pairs of one GGUF file, in file order, with typed getters whose errors name the
 * file, the key and what was found, so that a model that lacks {@code llama.block_count} says exactly that.
 */
public final class GgufMetadata {
    private final Path file;
    private final Map<String, GgufValue> values;

    GgufMetadata(Path file, Map<String, GgufValue> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Every pair with its GGUF type. */
    public Map<String, GgufValue> values() {
        return values;
    }

    /** Every pair as plain Java values ({@link GgufValueType} lists the types). */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        values.forEach((k, v) -> m.put(k, v.value()));
        return Collections.unmodifiableMap(m);
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** The typed value, or {@code null} when the key is absent. */
    public GgufValue value(String key) {
        return values.get(key);
    }

    public String getString(String key) {
        return string(key, require(key));
    }

    public String getString(String key, String fallback) {
        GgufValue v = values.get(key);
        return v == null ? fallback : string(key, v);
    }

    /** Any integer type whose value fits an {@code int}. */
    public int getInt(String key) {
        return toInt(key, require(key));
    }

    public int getInt(String key, int fallback) {
        GgufValue v = values.get(key);
        return v == null ? fallback : toInt(key, v);
    }

    /** Any integer type; a UINT64 beyond {@code Long.MAX_VALUE} is refused. */
    public long getLong(String key) {
        return toLong(key, require(key));
    }

    /** FLOAT32, FLOAT64 (rounded to float) or an integer type. */
    public float getFloat(String key) {
        return toFloat(key, require(key));
    }

    public float getFloat(String key, float fallback) {
        GgufValue v = values.get(key);
        return v == null ? fallback : toFloat(key, v);
    }

    public boolean getBoolean(String key, boolean fallback) {
        GgufValue v = values.get(key);
        if (v == null) {
            return fallback;
        }
        if (v.type() != GgufValueType.BOOL) {
            throw wrongType(key, v, "a BOOL");
        }
        return (Boolean) v.value();
    }

    @SuppressWarnings("unchecked")
    public List<String> getStringList(String key) {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.ARRAY || v.elementType() != GgufValueType.STRING) {
            throw wrongType(key, v, "an array of STRING");
        }
        return (List<String>) v.value();
    }

    /** A FLOAT32 array (a copy), or a FLOAT64 array rounded to float. */
    public float[] getFloatArray(String key) {
        GgufValue v = require(key);
        if (v.type() == GgufValueType.ARRAY) {
            if (v.value() instanceof float[] a) {
                return a.clone();
            }
            if (v.value() instanceof double[] a) {
                float[] f = new float[a.length];
                for (int i = 0; i < a.length; i++) {
                    f[i] = (float) a[i];
                }
                return f;
            }
        }
        throw wrongType(key, v, "an array of FLOAT32");
    }

    /** An array of any integer type whose values all fit an {@code int}. */
    public int[] getIntArray(String key) {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.ARRAY || !v.elementType().isInteger()) {
            throw wrongType(key, v, "an array of integers");
        }
        return switch (v.value()) {
            case int[] a -> a.clone();
            case short[] a -> {
                int[] r = new int[a.length];
                for (int i = 0; i < a.length; i++) {
                    r[i] = a[i];
                }
                yield r;
            }
            case byte[] a -> {
                int[] r = new int[a.length];
                for (int i = 0; i < a.length; i++) {
                    r[i] = a[i];
                }
                yield r;
            }
            case long[] a -> {
                int[] r = new int[a.length];
                for (int i = 0; i < a.length; i++) {
                    if (a[i] < Integer.MIN_VALUE || a[i] > Integer.MAX_VALUE
                            || (v.elementType() == GgufValueType.UINT64 && a[i] < 0)) {
                        throw new IllegalArgumentException(where(key) + " element " + i + " = "
                                + (v.elementType() == GgufValueType.UINT64 ? Long.toUnsignedString(a[i]) : a[i])
                                + " does not fit an int");
                    }
                    r[i] = (int) a[i];
                }
                yield r;
            }
            default -> throw wrongType(key, v, "an array of integers");
        };
    }

    /** Elements of an array value of any type. */
    public long arrayLength(String key) {
        GgufValue v = require(key);
        if (v.type() != GgufValueType.ARRAY) {
            throw wrongType(key, v, "an array");
        }
        return v.length();
    }

    private GgufValue require(String key) {
        Objects.requireNonNull(key, "key");
        GgufValue v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("GGUF file " + file + " has no metadata key '" + key + "'");
        }
        return v;
    }

    private String string(String key, GgufValue v) {
        if (v.type() != GgufValueType.STRING) {
            throw wrongType(key, v, "a STRING");
        }
        return (String) v.value();
    }

    private int toInt(String key, GgufValue v) {
        long l = toLong(key, v);
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(where(key) + " = " + l + " does not fit an int");
        }
        return (int) l;
    }

    private long toLong(String key, GgufValue v) {
        if (!v.type().isInteger()) {
            throw wrongType(key, v, "an integer");
        }
        long l = switch (v.value()) {
            case Byte b -> b;
            case Short s -> s;
            case Integer i -> i;
            case Long x -> x;
            default -> throw new AssertionError(v);
        };
        if (v.type() == GgufValueType.UINT64 && l < 0) {
            throw new IllegalArgumentException(where(key) + " = " + Long.toUnsignedString(l) + " does not fit a long");
        }
        return l;
    }

    private float toFloat(String key, GgufValue v) {
        return switch (v.value()) {
            case Float f -> f;
            case Double d -> (float) (double) d;
            default -> {
                if (v.type().isInteger()) {
                    yield (float) toLong(key, v);
                }
                throw wrongType(key, v, "a number");
            }
        };
    }

    private String where(String key) {
        return "GGUF file " + file + ": metadata key '" + key + "'";
    }

    private IllegalArgumentException wrongType(String key, GgufValue v, String expected) {
        return new IllegalArgumentException(where(key) + " is " + v + ", expected " + expected);
    }
}
