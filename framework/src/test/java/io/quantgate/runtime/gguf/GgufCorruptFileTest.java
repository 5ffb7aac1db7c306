package io.quantgate.runtime.gguf;

import io.quantgate.runtime.model.LlamaConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GGUF files assembled byte by byte from the format description (not by {@link GgufWriter}), read
 * correctly when well-formed and refused with a message naming the file when not.
 */
class GgufCorruptFileTest {
    @TempDir
    Path dir;

    /** Little-endian byte assembly. */
    static final class Le {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Le u8(int v) {
            out.write(v);
            return this;
        }

        Le u32(long v) {
            for (int i = 0; i < 4; i++) {
                out.write((int) (v >>> 8 * i));
            }
            return this;
        }

        Le u64(long v) {
            for (int i = 0; i < 8; i++) {
                out.write((int) (v >>> 8 * i));
            }
            return this;
        }

        Le f32(float v) {
            return u32(Float.floatToRawIntBits(v));
        }

        Le str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Le kvString(String k, String v) {
            return str(k).u32(8).str(v);
        }

        Le kvU32(String k, long v) {
            return str(k).u32(4).u32(v);
        }

        Le kvF32(String k, float v) {
            return str(k).u32(6).f32(v);
        }

        Le padTo(int alignment) {
            while (out.size() % alignment != 0) {
                out.write(0);
            }
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    /** What a test may vary in the tiny model. */
    static final class Spec {
        String magic = "GGUF";
        long version = 3;
        String arch = "llama";
        long typeId = 0;
        long offset = 0;
        long ne0 = 32;
        long extraKvCount = 0;
        Consumer<Le> extraKv = le -> { };
    }

    /**
     * A one-layer llama header (dim 32, 4 heads, ctx 16) with one tensor, token_embd.weight ne = [32, 4] F32
     * holding value i/4 at index i, at data offset 0 after padding to 32.
     */
    static byte[] tinyModel(Spec s) {
        Le le = new Le();
        le.out.write(s.magic.getBytes(StandardCharsets.US_ASCII), 0, 4);
        le.u32(s.version).u64(1).u64(7 + s.extraKvCount);
        le.kvString("general.architecture", s.arch);
        le.kvU32(s.arch + ".embedding_length", 32);
        le.kvU32(s.arch + ".feed_forward_length", 64);
        le.kvU32(s.arch + ".block_count", 1);
        le.kvU32(s.arch + ".attention.head_count", 4);
        le.kvU32(s.arch + ".context_length", 16);
        le.kvF32(s.arch + ".attention.layer_norm_rms_epsilon", 1e-6f);
        s.extraKv.accept(le);
        le.str("token_embd.weight").u32(2).u64(s.ne0).u64(4).u32(s.typeId).u64(s.offset);
        le.padTo(32);
        for (int i = 0; i < 4 * 32; i++) {
            le.f32(i / 4f);
        }
        return le.bytes();
    }

    private Path file(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void handAssembledFileIsReadAsTheFormatSays() throws Exception {
        byte[] bytes = tinyModel(new Spec());
        Path p = file("tiny.gguf", bytes);
        try (GgufFile g = GgufFile.open(p)) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.alignment()).isEqualTo(32);
            assertThat(g.dataStart()).isEqualTo(bytes.length - 512);
            assertThat(g.metadata().get("llama.block_count")).isEqualTo(1L);
            assertThat(g.metadata().get("general.architecture")).isEqualTo("llama");
            assertThat(g.shapes().get("embed")).containsExactly(4, 32);
            float[] v = g.floats("embed");
            assertThat(v[0]).isEqualTo(0f);
            assertThat(v[33]).isEqualTo(33 / 4f);
            assertThat(v[127]).isEqualTo(127 / 4f);
            assertThat(g.floats("token_embd.weight")).containsExactly(v);
            assertThat(g.config()).isEqualTo(new LlamaConfig(32, 64, 1, 4, 4, 8, 4, 16, 10000f,
                    LlamaConfig.RopeScaling.NONE, 1e-6f, true, LlamaConfig.RopeStyle.INTERLEAVED, false, false));
            assertThatThrownBy(() -> g.floats("layers.0.attn.q")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("has no tensor 'layers.0.attn.q'").hasMessageContaining(p.toString());
            assertThatThrownBy(g::tokens).hasMessageContaining("tokenizer.ggml.tokens");
        }
    }

    @Test
    void version2IsAcceptedVersion1AndBigEndianAreNot() throws Exception {
        Spec s = new Spec();
        s.version = 2;
        try (GgufFile g = GgufFile.open(file("v2.gguf", tinyModel(s)))) {
            assertThat(g.version()).isEqualTo(2);
        }
        s.version = 1;
        Path v1 = file("v1.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(v1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(v1.toString()).hasMessageContaining("version 1");
        s.version = 0x03000000L;
        Path be = file("be.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(be)).hasMessageContaining(be.toString()).hasMessageContaining("big-endian");
    }

    @Test
    void badMagic() throws Exception {
        Spec s = new Spec();
        s.magic = "GGML";
        Path p = file("magic.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("not a GGUF file");
        Path empty = file("empty.gguf", new byte[0]);
        assertThatThrownBy(() -> GgufFile.open(empty)).hasMessageContaining(empty.toString())
                .hasMessageContaining("not a GGUF file");
    }

    @Test
    void truncatedFilesAnywhere() throws Exception {
        byte[] all = tinyModel(new Spec());
        // inside the counts, a key, a value, the tensor info, and the data
        for (int cut : new int[] {6, 20, 40, 100, all.length - 600, all.length - 1}) {
            Path p = file("cut" + cut + ".gguf", Arrays.copyOf(all, cut));
            assertThatThrownBy(() -> GgufFile.open(p)).as("cut at %d", cut)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(p.toString()).hasMessageContaining("truncated");
        }
    }

    @Test
    void tensorBeyondTheEndOfTheFile() throws Exception {
        Spec s = new Spec();
        s.offset = 32;
        Path p = file("offset.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("token_embd.weight")
                .hasMessageContaining("beyond the end of the file");
        s.offset = Long.MAX_VALUE - 31; // a multiple of 32 whose end overflows
        Path huge = file("huge.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(huge)).hasMessageContaining("beyond the end of the file");
        s.offset = 8;
        Path mis = file("misaligned.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(mis)).hasMessageContaining("not a multiple of the alignment 32");
    }

    @Test
    void unsupportedAndUnknownTensorTypes() throws Exception {
        Spec s = new Spec();
        s.typeId = 13;
        Path q5k = file("q5k.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(q5k)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported type Q5_K (type id 13) for tensor 'token_embd.weight' in file "
                        + q5k);
        s.typeId = 99;
        Path unknown = file("t99.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(unknown))
                .hasMessageContaining("unsupported type unknown type id 99 for tensor 'token_embd.weight' in file "
                        + unknown);
        s.typeId = 8; // Q8_0 with 20-value rows
        s.ne0 = 20;
        Path rows = file("rows.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(rows)).hasMessageContaining(rows.toString())
                .hasMessageContaining("blocks of 32");
    }

    @Test
    void unknownArchitecture() throws Exception {
        Spec s = new Spec();
        s.arch = "gpt2";
        Path p = file("gpt2.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("'gpt2'")
                .hasMessageContaining("llama, mistral, qwen2, qwen3");
    }

    @Test
    void corruptDimensionsCountsAndMetadata() throws Exception {
        Spec s = new Spec();
        s.ne0 = 0;
        Path zero = file("zero.gguf", tinyModel(s));
        assertThatThrownBy(() -> GgufFile.open(zero)).hasMessageContaining(zero.toString())
                .hasMessageContaining("ne[0] = 0");

        // a string claiming 2^62 bytes must not be allocated
        Spec big = new Spec();
        big.extraKvCount = 1;
        big.extraKv = le -> le.str("x").u32(8).u64(1L << 62);
        Path str = file("string.gguf", tinyModel(big));
        assertThatThrownBy(() -> GgufFile.open(str)).hasMessageContaining(str.toString())
                .hasMessageContaining("value of metadata key 'x' length");

        Spec arr = new Spec();
        arr.extraKvCount = 1;
        arr.extraKv = le -> le.str("a").u32(9).u32(6).u64(1L << 40); // 2^40 floats
        Path array = file("array.gguf", tinyModel(arr));
        assertThatThrownBy(() -> GgufFile.open(array)).hasMessageContaining(array.toString())
                .hasMessageContaining("element count");

        Spec type = new Spec();
        type.extraKvCount = 1;
        type.extraKv = le -> le.str("t").u32(13).u32(0);
        Path vt = file("valuetype.gguf", tinyModel(type));
        assertThatThrownBy(() -> GgufFile.open(vt)).hasMessageContaining(vt.toString())
                .hasMessageContaining("value type of metadata key 't' is 13");

        Spec dup = new Spec();
        dup.extraKvCount = 1;
        dup.extraKv = le -> le.kvU32("llama.block_count", 2);
        Path twice = file("dup.gguf", tinyModel(dup));
        assertThatThrownBy(() -> GgufFile.open(twice)).hasMessageContaining("'llama.block_count' appears twice");

        Spec align = new Spec();
        align.extraKvCount = 1;
        align.extraKv = le -> le.kvU32("general.alignment", 48);
        Path al = file("align.gguf", tinyModel(align));
        assertThatThrownBy(() -> GgufFile.open(al)).hasMessageContaining("general.alignment");

        Spec deep = new Spec();
        deep.extraKvCount = 1;
        deep.extraKv = le -> {
            le.str("deep").u32(9);
            for (int i = 0; i < 20; i++) {
                le.u32(9).u64(1);
            }
        };
        Path nest = file("nest.gguf", tinyModel(deep));
        assertThatThrownBy(() -> GgufFile.open(nest)).hasMessageContaining("nests arrays");
    }

    @Test
    void missingOrMistypedHyperParametersAreNamed() throws Exception {
        // drop the eps key by writing it under another name
        Le le = new Le();
        le.out.write("GGUF".getBytes(StandardCharsets.US_ASCII), 0, 4);
        le.u32(3).u64(0).u64(6);
        le.kvString("general.architecture", "qwen2");
        le.kvU32("qwen2.embedding_length", 32);
        le.kvU32("qwen2.feed_forward_length", 64);
        le.kvString("qwen2.block_count", "one");
        le.kvU32("qwen2.attention.head_count", 4);
        le.kvU32("qwen2.context_length", 16);
        Path p = file("hparams.gguf", le.bytes());
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("'qwen2.block_count'")
                .hasMessageContaining("expected an integer");
    }

    @Test
    void overlappingTensorsAreRefusedNamingBoth() throws Exception {
        // two F32 [32, 4] tensors (512 bytes each); the second starts 256 bytes into the first
        for (long second : new long[] {256, 0}) {
            Le le = new Le();
            le.out.write("GGUF".getBytes(StandardCharsets.US_ASCII), 0, 4);
            le.u32(3).u64(2).u64(0);
            le.str("token_embd.weight").u32(2).u64(32).u64(4).u32(0).u64(0);
            le.str("output.weight").u32(2).u64(32).u64(4).u32(0).u64(second);
            le.padTo(32);
            for (int i = 0; i < 256; i++) {
                le.f32(i);
            }
            Path p = file("overlap" + second + ".gguf", le.bytes());
            assertThatThrownBy(() -> GgufFile.open(p)).as("second tensor at %d", second)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(p.toString())
                    .hasMessageContaining("overlapping tensors")
                    .hasMessageContaining("'token_embd.weight' occupies data bytes [0, 512)")
                    .hasMessageContaining("'output.weight' occupies [" + second + ", " + (second + 512) + ")");
        }
    }
}
