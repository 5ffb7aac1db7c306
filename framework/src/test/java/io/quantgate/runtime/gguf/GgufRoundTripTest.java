package io.quantgate.runtime.gguf;

import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.LlamaConfig.RopeScaling;
import io.quantgate.runtime.model.LlamaConfig.RopeStyle;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.TensorNames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufRoundTripTest {
    @TempDir
    Path dir;

    /** The smallest metadata + tensor set GgufFile.open accepts as a model. */
    private static GgufWriter tinyModel() {
        GgufWriter w = new GgufWriter();
        w.putMetadata("general.architecture", "llama");
        w.putMetadata("llama.embedding_length", GgufValue.uint32(32));
        w.putMetadata("llama.feed_forward_length", GgufValue.uint32(64));
        w.putMetadata("llama.block_count", GgufValue.uint32(1));
        w.putMetadata("llama.attention.head_count", GgufValue.uint32(4));
        w.putMetadata("llama.context_length", GgufValue.uint32(16));
        w.putMetadata("llama.attention.layer_norm_rms_epsilon", 1e-6f);
        w.addTensor("token_embd.weight", GgmlType.F32, new int[] {5, 32}, new float[5 * 32]);
        return w;
    }

    @Test
    void everyMetadataValueTypeRoundTrips() {
        Map<String, GgufValue> values = new LinkedHashMap<>();
        values.put("t.uint8", GgufValue.of(GgufValueType.UINT8, (short) 200));
        values.put("t.int8", GgufValue.of(GgufValueType.INT8, (byte) -5));
        values.put("t.uint16", GgufValue.of(GgufValueType.UINT16, 60000));
        values.put("t.int16", GgufValue.of(GgufValueType.INT16, (short) -30000));
        values.put("t.uint32", GgufValue.uint32(4_000_000_000L));
        values.put("t.int32", GgufValue.of(GgufValueType.INT32, -7));
        values.put("t.float32", GgufValue.of(GgufValueType.FLOAT32, 1.5f));
        values.put("t.bool", GgufValue.of(GgufValueType.BOOL, true));
        values.put("t.string", GgufValue.string("héllo ▁wörld"));
        values.put("t.uint64", GgufValue.of(GgufValueType.UINT64, -1L)); // 2^64 − 1
        values.put("t.int64", GgufValue.of(GgufValueType.INT64, Long.MIN_VALUE));
        values.put("t.float64", GgufValue.of(GgufValueType.FLOAT64, Math.PI));
        values.put("a.uint8", GgufValue.array(GgufValueType.UINT8, new short[] {0, 255}));
        values.put("a.int8", GgufValue.array(GgufValueType.INT8, new byte[] {-128, 127}));
        values.put("a.uint16", GgufValue.array(GgufValueType.UINT16, new int[] {65535, 1}));
        values.put("a.int16", GgufValue.array(GgufValueType.INT16, new short[] {-1, 2}));
        values.put("a.uint32", GgufValue.array(GgufValueType.UINT32, new long[] {0xFFFF_FFFFL, 3}));
        values.put("a.int32", GgufValue.array(GgufValueType.INT32, new int[] {1, 2, 3, 6, 6, 6}));
        values.put("a.float32", GgufValue.array(GgufValueType.FLOAT32, new float[] {-0.0f, 1e-30f, Float.MAX_VALUE}));
        values.put("a.bool", GgufValue.array(GgufValueType.BOOL, new boolean[] {true, false, true}));
        values.put("a.string", GgufValue.strings(List.of("<s>", "", "▁the")));
        values.put("a.uint64", GgufValue.array(GgufValueType.UINT64, new long[] {-2L}));
        values.put("a.int64", GgufValue.array(GgufValueType.INT64, new long[] {Long.MAX_VALUE}));
        values.put("a.float64", GgufValue.array(GgufValueType.FLOAT64, new double[] {Math.E}));
        values.put("a.empty", GgufValue.array(GgufValueType.FLOAT32, new float[0]));
        values.put("a.nested", GgufValue.array(GgufValueType.ARRAY, List.of(
                GgufValue.array(GgufValueType.INT32, new int[] {1}), GgufValue.strings(List.of("x", "y")))));
        GgufWriter w = tinyModel();
        values.forEach(w::putMetadata);
        Path f = dir.resolve("meta.gguf");
        w.write(f);
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.version()).isEqualTo(3);
            GgufMetadata m = g.typedMetadata();
            values.forEach((k, v) -> assertThat(m.value(k)).as(k).isEqualTo(v));
            // plain values and typed getters
            assertThat(g.metadata().get("t.uint32")).isEqualTo(4_000_000_000L);
            assertThat(g.metadata().get("a.string")).isEqualTo(List.of("<s>", "", "▁the"));
            assertThat(m.getInt("t.uint16")).isEqualTo(60000);
            assertThat(m.getLong("t.uint32")).isEqualTo(4_000_000_000L);
            assertThat(m.getFloat("t.float64")).isEqualTo((float) Math.PI);
            assertThat(m.getIntArray("a.int32")).containsExactly(1, 2, 3, 6, 6, 6);
            assertThat(m.getIntArray("a.uint16")).containsExactly(65535, 1);
            assertThat(m.getBoolean("t.bool", false)).isTrue();
            assertThatThrownBy(() -> m.getInt("t.uint32")).hasMessageContaining("t.uint32")
                    .hasMessageContaining(f.toString()).hasMessageContaining("does not fit an int");
            assertThatThrownBy(() -> m.getLong("t.uint64")).hasMessageContaining("18446744073709551615");
            assertThatThrownBy(() -> m.getInt("t.string")).hasMessageContaining("'t.string'")
                    .hasMessageContaining("STRING").hasMessageContaining("expected an integer");
            assertThatThrownBy(() -> m.getString("no.such.key")).hasMessageContaining("no metadata key 'no.such.key'")
                    .hasMessageContaining(f.toString());
            assertThatThrownBy(() -> m.getStringList("a.int32")).hasMessageContaining("array of STRING");
        }
    }

    @Test
    void everyWriteTypeRoundTripsAndRawKQuantBytesAreReadBack() {
        SplittableRandom rnd = new SplittableRandom(5);
        float[] x = new float[4 * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        byte[] q4k = new byte[2 * 144];
        rnd.nextBytes(q4k);
        byte[] q6k = new byte[210];
        rnd.nextBytes(q6k);
        for (int at : new int[] {0, 2, 144, 146}) { // keep the fp16 super-scales finite: 0x3400 = 0.25
            q4k[at] = 0;
            q4k[at + 1] = 0x34;
        }
        q6k[208] = 0;
        q6k[209] = (byte) 0xB4; // −0.25
        GgufWriter w = tinyModel()
                .addTensor("x.f32", GgmlType.F32, new int[] {4, 64}, x)
                .addTensor("x.f16", GgmlType.F16, new int[] {4, 64}, x)
                .addTensor("x.bf16", GgmlType.BF16, new int[] {4, 64}, x)
                .addTensor("x.q8_0", GgmlType.Q8_0, new int[] {4, 64}, x)
                .addTensor("x.q4_0", GgmlType.Q4_0, new int[] {2, 2, 64}, x)
                .addTensor("x.q4_k", GgmlType.Q4_K, new int[] {2, 256}, q4k)
                .addTensor("x.q6_k", GgmlType.Q6_K, new int[] {256}, q6k);
        Path f = dir.resolve("types.gguf");
        w.write(f);
        assertThat(f.toFile().length() % 32).as("data section padded to the alignment").isZero();
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.floats("x.f32")).containsExactly(x);
            for (int i = 0; i < x.length; i++) {
                assertThat(g.floats("x.f16")[i]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(x[i])));
            }
            assertThat(g.floats("x.bf16")).containsExactly(Arrays.copyOf(decodeAs(GgmlType.BF16,
                    GgufWriter.encode(GgmlType.BF16, x, 0, x.length, "x"), x.length), x.length));
            assertWithinQuantBound(x, g.floats("x.q8_0"), 127, true);
            assertWithinQuantBound(x, g.floats("x.q4_0"), -8, false);
            assertThat(g.tensor("x.q4_0").ne()).containsExactly(64, 2, 2);
            assertThat(g.tensor("x.q4_0").shape()).containsExactly(2, 2, 64);
            assertThat(g.storedType("x.q4_k")).isEqualTo("Q4_K");
            assertThat(g.floats("x.q4_k")).containsExactly(decodeAs(GgmlType.Q4_K, q4k, 512));
            assertThat(g.floats("x.q6_k")).containsExactly(decodeAs(GgmlType.Q6_K, q6k, 256));
            for (GgufTensorInfo t : g.tensors().values()) {
                assertThat(t.offset() % 32).as(t.name()).isZero();
            }
            assertThat(g.shapes()).as("tensors without a canonical name are not model tensors")
                    .containsOnlyKeys(TensorNames.EMBED);
        }
    }

    private static float[] decodeAs(GgmlType t, byte[] b, int n) {
        float[] out = new float[n];
        t.dequantize(MemorySegment.ofArray(b), 0, out, 0, n);
        return out;
    }

    /**
     * ggml computes codes with the unrounded scale {@code d} ({@code absmax/127}, or the signed extreme / −8)
     * and stores {@code fp16(d)}: each value is within {@code |d|/2} of its code's multiple of {@code d}, plus
     * the code times the fp16 rounding of {@code d}. Q4_0 clamps code +8 to +7, so values beyond 7.5·d on the
     * side opposite the extreme are within {@code |d|} instead.
     */
    static void assertWithinQuantBound(float[] x, float[] back, int levels, boolean symmetric) {
        for (int b = 0; b < x.length / 32; b++) {
            double amax = 0, extreme = 0;
            for (int j = 0; j < 32; j++) {
                double v = x[32 * b + j];
                if (Math.abs(v) > amax) {
                    amax = Math.abs(v);
                    extreme = v;
                }
            }
            double d = symmetric ? amax / levels : extreme / levels;
            double d16 = Float.float16ToFloat(Float.floatToFloat16((float) d));
            for (int j = 0; j < 32; j++) {
                int i = 32 * b + j;
                double q = back[i] / d16;
                double bound = Math.abs(d) / 2 + Math.abs(q) * Math.abs(d16 - d) + 1e-6 * Math.abs(x[i]);
                if (!symmetric && x[i] / d > 7.5) {
                    bound += Math.abs(d) / 2;
                }
                assertThat(Math.abs((double) x[i] - back[i])).as("value %d: %s → %s (d=%s)", i, x[i], back[i], d)
                        .isLessThanOrEqualTo(bound);
            }
        }
    }

    @Test
    void q8_0AndQ4_0RefuseRowsThatAreNotWholeBlocks() {
        assertThatThrownBy(() -> new GgufWriter().addTensor("blk.0.ffn_down.weight", GgmlType.Q8_0,
                new int[] {64, 172}, new float[64 * 172]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("blk.0.ffn_down.weight").hasMessageContaining("172")
                .hasMessageContaining("F16 or F32");
        assertThatThrownBy(() -> new GgufWriter().addTensor("w", GgmlType.Q4_K, new int[] {256}, new float[256]))
                .hasMessageContaining("does not encode Q4_K");
        assertThatThrownBy(() -> new GgufWriter().addTensor("w", GgmlType.Q8_0, new int[] {32}, new byte[33]))
                .hasMessageContaining("34 bytes");
    }

    @Test
    void writeIsAtomicAndReplacesAnExistingFile() throws Exception {
        Path f = dir.resolve("m.gguf");
        Files.writeString(f, "old contents");
        tinyModel().write(f);
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.architecture()).isEqualTo("llama");
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("m.gguf");
        }
    }

    private static LlamaConfig config(int headSize, RopeScaling scaling, RopeStyle style, boolean bias, boolean qkNorm,
                                      boolean shared) {
        return new LlamaConfig(64, 96, 2, 4, 2, headSize, 40, 32, 500000f, scaling, 1e-6f, shared, style, bias,
                qkNorm);
    }

    private static void assertSameTensors(MapWeights w, GgufFile g) {
        assertThat(g.shapes().keySet()).containsExactlyElementsOf(w.shapes().keySet());
        for (String name : w.shapes().keySet()) {
            assertThat(g.shapes().get(name)).as(name).containsExactly(w.shapes().get(name));
            assertThat(g.floats(name)).as(name).containsExactly(w.floats(name));
        }
    }

    @Test
    void qwen2WithBiasesAndQwen3WithQkNormAndOwnHeadSizeRoundTrip() {
        for (String arch : List.of("qwen2", "qwen3")) {
            boolean qwen3 = arch.equals("qwen3");
            LlamaConfig c = config(qwen3 ? 32 : 16, RopeScaling.NONE, RopeStyle.ROTATE_HALF, !qwen3, qwen3, qwen3);
            MapWeights w = new MapWeights(arch, c, 1);
            Path f = dir.resolve(arch + ".gguf");
            GgufWriter.writeModel(w, f, n -> GgmlType.F32, Map.of("general.name", "tiny " + arch));
            try (GgufFile g = GgufFile.open(f)) {
                assertThat(g.architecture()).isEqualTo(arch);
                assertThat(g.config()).isEqualTo(c);
                assertThat(g.getString("general.name")).isEqualTo("tiny " + arch);
                assertThat(g.tensors()).containsKey(qwen3 ? "blk.1.attn_k_norm.weight" : "blk.1.attn_v.bias");
                assertThat(g.tensors().containsKey("output.weight")).isEqualTo(!qwen3);
                assertSameTensors(w, g);
            }
        }
    }

    /**
     * Hugging Face Llama weights use rotate-half RoPE; llama.cpp's "llama" uses interleaved pairs. The writer
     * permutes q/k rows so the GGUF model computes the same function (up to the order of float sums).
     */
    @Test
    void rotateHalfLlamaIsPermutedToInterleavedAndComputesTheSameLogits() {
        LlamaConfig c = config(16, RopeScaling.NONE, RopeStyle.ROTATE_HALF, false, false, false);
        MapWeights w = new MapWeights("llama", c, 2);
        Path f = dir.resolve("hf-llama.gguf");
        GgufWriter.writeModel(w, f, n -> GgmlType.F32, Map.of());
        try (GgufFile g = GgufFile.open(f)) {
            assertThat(g.config().ropeStyle()).isEqualTo(RopeStyle.INTERLEAVED);
            // head 0, pair 1: interleaved rows 2, 3 are rotate-half rows 1, 1 + 8
            float[] q = w.floats("layers.0.attn.q"), gq = g.floats("layers.0.attn.q");
            assertThat(Arrays.copyOfRange(gq, 2 * 64, 3 * 64)).containsExactly(Arrays.copyOfRange(q, 64, 2 * 64));
            assertThat(Arrays.copyOfRange(gq, 3 * 64, 4 * 64)).containsExactly(Arrays.copyOfRange(q, 9 * 64, 10 * 64));
            assertThat(g.floats("layers.1.attn.v")).containsExactly(w.floats("layers.1.attn.v"));
            try (LlamaModel a = LlamaModel.load(w, "fp32", ActivationMode.FP32);
                 LlamaModel b = LlamaModel.load(g, "fp32", ActivationMode.FP32)) {
                int[] tokens = {1, 7, 39, 3, 3, 20, 11, 0};
                for (int pos = 0; pos < tokens.length; pos++) {
                    float[] la = a.forward(tokens[pos], pos), lb = b.forward(tokens[pos], pos);
                    for (int i = 0; i < la.length; i++) {
                        assertThat(lb[i]).as("pos %d logit %d", pos, i).isCloseTo(la[i], org.assertj.core.data.Offset.offset(1e-4f));
                    }
                }
            }
        }
    }

    @Test
    void ropeScalingRoundTrips() {
        List<RopeScaling> cases = List.of(
                new RopeScaling(RopeScaling.Type.LINEAR, 4f, 0f, 0f, 0),
                new RopeScaling(RopeScaling.Type.LLAMA3, 8f, 1f, 4f, 8192),     // Llama 3.1
                new RopeScaling(RopeScaling.Type.LLAMA3, 32f, 1f, 4f, 8192),    // Llama 3.2
                new RopeScaling(RopeScaling.Type.LLAMA3, 16f, 1.5f, 5f, 4096)); // fitted, not a preset
        for (RopeScaling rs : cases) {
            LlamaConfig c = new LlamaConfig(128, 64, 1, 2, 1, 64, 16, 64, 500000f, rs, 1e-5f, true,
                    RopeStyle.INTERLEAVED, false, false);
            MapWeights w = new MapWeights("llama", c, 3);
            Path f = dir.resolve("rope.gguf");
            GgufWriter.writeModel(w, f, n -> GgmlType.F16, Map.of());
            try (GgufFile g = GgufFile.open(f)) {
                assertThat(g.config().ropeScaling()).as(rs.toString()).isEqualTo(rs);
                assertThat(g.tensors().containsKey("rope_freqs.weight")).isEqualTo(rs.type() == RopeScaling.Type.LLAMA3);
                assertThat(g.getInt("general.file_type")).as("mostly F16").isEqualTo(1);
            }
        }
    }

    @Test
    void perPairDivisorsThatNoLlama3ScalingReproducesAreRefused() {
        float[] div = Llama3RopeFit.divisors(new RopeScaling(RopeScaling.Type.LLAMA3, 8f, 1f, 4f, 8192), 64, 500000f);
        assertThat(Llama3RopeFit.fit(div, 64, 500000f, 8192))
                .isEqualTo(new RopeScaling(RopeScaling.Type.LLAMA3, 8f, 1f, 4f, 8192));
        div[3] = 2.5f; // a high-frequency pair scaled: no llama3 curve does that
        assertThatThrownBy(() -> Llama3RopeFit.fit(div, 64, 500000f, 8192))
                .hasMessageContaining("no llama3 scaling reproduces");
    }

    @Test
    void writeModelRefusesTensorsATypeCannotHold() {
        LlamaConfig c = new LlamaConfig(64, 172, 1, 4, 4, 16, 40, 32, 10000f, RopeScaling.NONE, 1e-5f, true,
                RopeStyle.INTERLEAVED, false, false);
        MapWeights w = new MapWeights("llama", c, 4);
        Path f = dir.resolve("q8.gguf");
        assertThatThrownBy(() -> GgufWriter.writeModel(w, f, n -> GgmlType.Q8_0, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layers.0.mlp.down").hasMessageContaining("172").hasMessageContaining("F16 or F32");
        assertThat(f).doesNotExist();
    }
}
