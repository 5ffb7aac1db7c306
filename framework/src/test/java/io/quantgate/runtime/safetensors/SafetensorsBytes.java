package io.quantgate.runtime.safetensors;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Builds safetensors files byte by byte for tests, straight from the format's definition (8-byte LE header
 * length, JSON text assembled by hand, raw little-endian data), so the reader is checked against the spec
 * rather than against {@link SafetensorsWriter}.
 */
final class SafetensorsBytes {
    private record T(String name, String dtype, int[] shape, byte[] data) {
    }

    private final List<T> tensors = new ArrayList<>();
    private String metadataJson = "{\"format\":\"pt\"}";

    SafetensorsBytes metadata(String json) {
        metadataJson = json;
        return this;
    }

    SafetensorsBytes raw(String name, String dtype, int[] shape, byte[] data) {
        tensors.add(new T(name, dtype, shape, data));
        return this;
    }

    SafetensorsBytes f32(String name, int[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return raw(name, "F32", shape, b.array());
    }

    /** 16-bit patterns stored as given (F16 or BF16). */
    SafetensorsBytes bits16(String name, String dtype, int[] shape, int... bits) {
        ByteBuffer b = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : bits) {
            b.putShort((short) v);
        }
        return raw(name, dtype, shape, b.array());
    }

    /** The header JSON: tensors back to back from offset 0, in the order added. */
    String headerJson() {
        StringBuilder sb = new StringBuilder("{");
        if (metadataJson != null) {
            sb.append("\"__metadata__\":").append(metadataJson);
        }
        long off = 0;
        for (T t : tensors) {
            if (sb.length() > 1) {
                sb.append(',');
            }
            String shape = Arrays.stream(t.shape()).mapToObj(Integer::toString).collect(Collectors.joining(","));
            sb.append('"').append(t.name()).append("\":{\"dtype\":\"").append(t.dtype()).append("\",\"shape\":[")
                    .append(shape).append("],\"data_offsets\":[").append(off).append(',')
                    .append(off + t.data().length).append("]}");
            off += t.data().length;
        }
        return sb.append('}').toString();
    }

    byte[] build() {
        return assemble(headerJson(), data());
    }

    byte[] data() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tensors.forEach(t -> out.writeBytes(t.data()));
        return out.toByteArray();
    }

    /** length + header (padded with spaces to a multiple of 8, as the spec allows) + data. */
    static byte[] assemble(String headerJson, byte[] data) {
        byte[] json = headerJson.getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded);
        b.put(json);
        for (int i = json.length; i < padded; i++) {
            b.put((byte) ' ');
        }
        b.put(data);
        return b.array();
    }
}
