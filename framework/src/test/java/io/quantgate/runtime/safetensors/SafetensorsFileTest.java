package io.quantgate.runtime.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    private Path write(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsHandBuiltTensorsWithExactValues() throws Exception {
        byte[] bytes = new SafetensorsBytes()
                .metadata("{\"format\":\"pt\",\"origin\":\"test\"}")
                .f32("w", new int[] {2, 3}, 1f, -2.5f, 0.125f, 3e-7f, -0f, 65536.5f)
                // F16 by hand: 0x3C00 = +1·2^0; 0xC000 = −1·2^1; 0x3555 = 2^−2·(1 + 341/1024);
                // 0x7BFF = 2^15·(1 + 1023/1024) (largest finite); 0x0001 = 2^−24 (smallest subnormal); 0x8000 = −0
                .bits16("h", "F16", new int[] {6}, 0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x8000)
                // BF16 is the top half of an fp32: 0x3F80 = 1; 0xC0A0 = −2^2·1.25; 0x4049 = 2·(1 + 73/128);
                // 0x0080 = 2^−126 (smallest normal)
                .bits16("b", "BF16", new int[] {2, 2}, 0x3F80, 0xC0A0, 0x4049, 0x0080)
                .f32("scalar", new int[] {}, 42f)
                .f32("empty", new int[] {0, 4})
                .build();
        Path p = write("hand.safetensors", bytes);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.metadata()).containsEntry("format", "pt").containsEntry("origin", "test").hasSize(2);
            assertThat(f.tensors().keySet()).containsExactly("w", "h", "b", "scalar", "empty");
            assertThat(f.tensor("w").shape()).containsExactly(2, 3);
            assertThat(f.tensor("w").dtype()).isEqualTo(SafetensorsDtype.F32);
            assertThat(f.tensor("h").begin()).isEqualTo(24);
            assertThat(f.tensor("h").end()).isEqualTo(36);
            assertThat(bits(f.floats("w"))).containsExactly(bits(new float[] {1f, -2.5f, 0.125f, 3e-7f, -0f, 65536.5f}));
            assertThat(bits(f.floats("h"))).containsExactly(bits(new float[] {1f, -2f, 0.25f * (1 + 341f / 1024),
                    32768f * (1 + 1023f / 1024), (float) Math.pow(2, -24), -0f}));
            assertThat(f.floats("h")[3]).isEqualTo(65504f);
            assertThat(bits(f.floats("b"))).containsExactly(bits(new float[] {1f, -5f, 3.140625f,
                    (float) Math.pow(2, -126)}));
            assertThat(f.floats("scalar")).containsExactly(42f);
            assertThat(f.floats("empty")).isEmpty();
        }
    }

    @Test
    void headerWithoutMetadataAndUnpaddedIsAccepted() throws Exception {
        String json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        ByteBuffer b = ByteBuffer.allocate(8 + json.length() + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length()).put(json.getBytes()).putFloat(7.25f);
        try (SafetensorsFile f = SafetensorsFile.open(write("plain.safetensors", b.array()))) {
            assertThat(f.metadata()).isEmpty();
            assertThat(f.floats("x")).containsExactly(7.25f);
        }
    }

    @Test
    void truncatedFileIsRejected() throws Exception {
        Path p = write("tiny.safetensors", new byte[5]);
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("truncated").hasMessageContaining("5 bytes");
        // a valid file cut inside its data region: the offsets now point past the end
        byte[] full = new SafetensorsBytes().f32("a", new int[] {4}, 1, 2, 3, 4).build();
        Path cut = write("cut.safetensors", Arrays.copyOf(full, full.length - 3));
        assertThatThrownBy(() -> SafetensorsFile.open(cut)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(cut.toString()).hasMessageContaining("tensor 'a'")
                .hasMessageContaining("beyond the data region");
    }

    @Test
    void headerLengthBeyondFileIsRejected() throws Exception {
        byte[] full = new SafetensorsBytes().f32("a", new int[] {1}, 1).build();
        ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 4000);
        Path p = write("long.safetensors", full);
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("header length is 4000");
        // a length with the top bit set (a huge u64) is impossible, not a negative size
        ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -8);
        Path q = write("huge.safetensors", full);
        assertThatThrownBy(() -> SafetensorsFile.open(q)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(q.toString()).hasMessageContaining("impossible header length 18446744073709551608");
    }

    @Test
    void invalidJsonIsRejected() throws Exception {
        for (String bad : new String[] {"{\"a\":{\"dtype\":\"F32\",", "[1,2]", "{} trailing",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"}) {
            Path p = write("bad.safetensors", SafetensorsBytes.assemble(bad, new byte[4]));
            assertThatThrownBy(() -> SafetensorsFile.open(p)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(p.toString()).hasMessageContaining("header");
        }
    }

    @Test
    void offsetsOutOfRangeOrInconsistentAreRejected() throws Exception {
        String[][] cases = {
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", "beyond the data region"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs 8"},
                {"{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs 6"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "end before they begin"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", "impossible data_offsets"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "impossible shape"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "no data_offsets"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", "overlapping tensors"},
                {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", "impossibly large"},
        };
        for (String[] c : cases) {
            Path p = write("offsets.safetensors", SafetensorsBytes.assemble(c[0], new byte[8]));
            assertThatThrownBy(() -> SafetensorsFile.open(p)).as(c[0]).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(p.toString()).hasMessageContaining("tensor").hasMessageContaining(c[1]);
        }
    }

    @Test
    void nonFloatDtypesParseButCannotBeReadAsFloats() throws Exception {
        byte[] bytes = new SafetensorsBytes()
                .raw("codes", "I8", new int[] {4}, new byte[] {1, -1, 2, -2})
                .raw("fp8", "F8_E4M3", new int[] {2}, new byte[] {0x38, 0x40})
                .raw("mask", "U8", new int[] {2}, new byte[] {0, 1})
                .f32("ok", new int[] {1}, 3f)
                .build();
        Path p = write("mixed.safetensors", bytes);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.tensor("codes").dtype()).isEqualTo(SafetensorsDtype.I8);
            assertThat(f.floats("ok")).containsExactly(3f);
            for (String name : new String[] {"codes", "fp8", "mask"}) {
                assertThatThrownBy(() -> f.floats(name)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining(p.toString()).hasMessageContaining("tensor '" + name + "'")
                        .hasMessageContaining("unsupported dtype");
            }
            assertThatThrownBy(() -> f.floats("nope")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(p.toString()).hasMessageContaining("no tensor 'nope'");
        }
        // a dtype the format does not define (or a sub-byte one) cannot even be sized
        Path q = write("f4.safetensors", SafetensorsBytes.assemble(
                "{\"q\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}}", new byte[1]));
        assertThatThrownBy(() -> SafetensorsFile.open(q)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(q.toString()).hasMessageContaining("tensor 'q'")
                .hasMessageContaining("unsupported dtype F4");
    }

    @Test
    void badMetadataIsRejected() throws Exception {
        Path p = write("meta.safetensors", SafetensorsBytes.assemble("{\"__metadata__\":{\"format\":1}}", new byte[0]));
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("non-string __metadata__ value 'format'");
    }

    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
