package io.quantgate.runtime.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quantgate.kernels.format.Bf16;
import io.quantgate.kernels.format.Fp16;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void writesTheLayoutTheSpecDescribes() throws Exception {
        Path p = dir.resolve("out.safetensors");
        new SafetensorsWriter().metadata(Map.of("source", "unit test"))
                .add("b", SafetensorsDtype.F32, new int[] {2, 2}, new float[] {1f, -2f, 0.5f, 3e-8f})
                .add("a", SafetensorsDtype.F16, new int[] {3}, new float[] {1f, -2f, 65504f})
                .add("c", SafetensorsDtype.BF16, new int[] {1}, new float[] {-5f})
                .write(p);
        byte[] bytes = Files.readAllBytes(p);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertThat((8 + n) % 8).as("data region starts 8-byte aligned").isZero();
        assertThat(bytes.length).isEqualTo(8 + n + 16 + 6 + 2);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{\"__metadata__\":");
        assertThat(header.strip()).endsWith("}");
        assertThat(header.substring(header.strip().length())).matches(" *"); // padding is spaces only
        JsonNode json = new ObjectMapper().readTree(header);
        assertThat(json.get("__metadata__").get("format").asText()).isEqualTo("pt");
        assertThat(json.get("__metadata__").get("source").asText()).isEqualTo("unit test");
        // insertion order, packed back to back
        assertThat(json.get("b").get("data_offsets").toString()).isEqualTo("[0,16]");
        assertThat(json.get("a").get("data_offsets").toString()).isEqualTo("[16,22]");
        assertThat(json.get("a").get("dtype").asText()).isEqualTo("F16");
        assertThat(json.get("c").get("data_offsets").toString()).isEqualTo("[22,24]");
        int data = (int) (8 + n);
        assertThat(b.getFloat(data)).isEqualTo(1f);
        assertThat(b.getFloat(data + 12)).isEqualTo(3e-8f);
        // F16 1.0 = 0x3C00, −2.0 = 0xC000, 65504 = 0x7BFF; BF16 −5 = 0xC0A0
        assertThat(b.getShort(data + 16)).isEqualTo((short) 0x3C00);
        assertThat(b.getShort(data + 18)).isEqualTo((short) 0xC000);
        assertThat(b.getShort(data + 20)).isEqualTo((short) 0x7BFF);
        assertThat(b.getShort(data + 22)).isEqualTo((short) 0xC0A0);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.tensors().keySet()).containsExactly("b", "a", "c");
            assertThat(f.floats("b")).containsExactly(1f, -2f, 0.5f, 3e-8f);
            assertThat(f.metadata()).containsEntry("source", "unit test");
        }
        assertThat(Files.list(dir).map(q -> q.getFileName().toString())).containsExactly("out.safetensors");
    }

    @Test
    void halfPrecisionRoundsToNearestEven() throws Exception {
        Random r = new Random(7);
        float[] v = new float[1000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 4));
        }
        Path p = dir.resolve("half.safetensors");
        new SafetensorsWriter().add("h", SafetensorsDtype.F16, new int[] {1000}, v)
                .add("b", SafetensorsDtype.BF16, new int[] {10, 100}, v).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            float[] h = f.floats("h"), bf = f.floats("b");
            for (int i = 0; i < v.length; i++) {
                assertThat(h[i]).isEqualTo(Fp16.round(v[i]));
                assertThat(bf[i]).isEqualTo(Bf16.round(v[i]));
            }
        }
    }

    @Test
    void badValuesLeaveNoFileBehind() throws Exception {
        Path p = dir.resolve("bad.safetensors");
        assertThatThrownBy(() -> new SafetensorsWriter().add("x", SafetensorsDtype.F16, new int[] {2},
                new float[] {1f, 70000f}).write(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("tensor 'x'")
                .hasMessageContaining("beyond the F16 range");
        assertThatThrownBy(() -> new SafetensorsWriter().add("x", SafetensorsDtype.F32, new int[] {2},
                new float[] {Float.NaN, 1f}).write(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NaN at index 0 of tensor 'x'");
        assertThatThrownBy(() -> new SafetensorsWriter().add("x", SafetensorsDtype.F32, new int[] {2, 2},
                () -> new float[3]).write(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs 4 values, got 3");
        assertThat(Files.list(dir)).as("no target, no temporary file").isEmpty();
        assertThatThrownBy(() -> new SafetensorsWriter().add("x", SafetensorsDtype.I8, new int[] {1}, new float[1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot write dtype I8");
        assertThatThrownBy(() -> new SafetensorsWriter().add("x", SafetensorsDtype.F32, new int[] {1}, new float[1])
                .add("x", SafetensorsDtype.F32, new int[] {1}, new float[1]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("added twice");
    }

    @Test
    void replacesAnExistingFileWhole() throws Exception {
        Path p = dir.resolve("m.safetensors");
        Files.writeString(p, "old contents");
        float[] v = new float[64];
        Arrays.fill(v, 2f);
        new SafetensorsWriter().add("t", SafetensorsDtype.F32, new int[] {8, 8}, v).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.floats("t")).containsOnly(2f).hasSize(64);
        }
    }
}
