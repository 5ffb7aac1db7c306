package io.quantgate.fuzz;

import io.quantgate.gate.BaselineSeeds;
import io.quantgate.results.model.ResultsJson;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.gguf.GgmlType;
import io.quantgate.runtime.gguf.GgufWriter;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.TensorNames;
import io.quantgate.runtime.safetensors.HuggingFaceWriter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes the committed seed corpus of {@link ParserFuzzTest}: one small valid input per target (made by QuantGate's own
 * writers or by hand, never copied from the data directory) and the fixed companion files. Run it when a format
 * changes: {@code ./mvnw -o -pl framework -am test -Dtest=FuzzSeeds -Dquantgate.fuzz.writeSeeds=true
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class FuzzSeeds {
    static final Path RESOURCES = Path.of("src/test/resources/io/quantgate/fuzz");
    /** A tiny Llama: every tensor present, small enough for the fuzzer's inputs. */
    static final String TINY = "synthetic:dim=16,layers=1,heads=2,kv=1,hidden=32,vocab=8,ctx=16";

    /** A companion file of the seed corpus, from the test classpath. */
    static byte[] resource(String name) {
        try (InputStream in = FuzzSeeds.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing fuzz resource io/quantgate/fuzz/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void writeSeedCorpus() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("quantgate.fuzz.writeSeeds"),
                "writes the seed corpus only with -Dquantgate.fuzz.writeSeeds=true");
        Path inputs = RESOURCES.resolve("ParserFuzzTestInputs");
        Path tmp = Files.createTempDirectory("seeds");
        try (ModelWeights w = ModelFiles.open(TINY)) {
            Path gguf = tmp.resolve("tiny.gguf");
            GgufWriter.writeModel(w, gguf, n -> GgmlType.F32, Map.of("general.name", "fuzz seed"));
            seed(inputs, "gguf", "tiny-f32", Files.readAllBytes(gguf));
            Path gguf16 = tmp.resolve("tiny16.gguf");
            GgufWriter.writeModel(w, gguf16, n -> n.endsWith("norm.weight") ? GgmlType.F32 : GgmlType.F16, Map.of());
            seed(inputs, "gguf", "tiny-f16", Files.readAllBytes(gguf16));
            Path hf = tmp.resolve("hf");
            HuggingFaceWriter.write(w, hf, "F32", Map.of());
            byte[] st = Files.readAllBytes(hf.resolve("model.safetensors"));
            byte[] config = Files.readAllBytes(hf.resolve("config.json"));
            seed(inputs, "safetensors", "tiny", st);
            seed(inputs, "huggingFaceConfig", "tiny", config);
            Files.write(RESOURCES.resolve("hf-model.safetensors"), st);
            Files.write(RESOURCES.resolve("hf-config.json"), config);
            seed(inputs, "llama2cCheckpoint", "tiny", llama2c(w));
        }
        seed(inputs, "llama2cTokenizer", "bytes-and-merges", llama2cTokenizer());
        seed(inputs, "sentencePiece", "bpe", sentencePiece());
        seed(inputs, "huggingFaceTokenizer", "bpe-bytelevel", huggingFaceTokenizer().getBytes(StandardCharsets.UTF_8));
        seed(inputs, "resultsJson", "one-record", resultsJson().getBytes(StandardCharsets.UTF_8));
        for (String id : List.of("fp4-g32", "int4-g128", "int8", "mixed:attn.*=fp4-g32,mlp.*=int4-g128",
                "uniform:nf4-g64", "bf16")) {
            seed(inputs, "configId", id.replaceAll("[^a-z0-9-]", "_"), id.getBytes(StandardCharsets.UTF_8));
        }
        seed(inputs, "cliOptions", "perplexity", String.join("\u0000", "perplexity", "--model", "m.bin", "--text",
                "t.txt", "--config", "int4-g128", "--chunks", "4", "--ctx", "256").getBytes(StandardCharsets.UTF_8));
        seed(inputs, "cliOptions", "bench-kernels", String.join("\u0000", "bench", "kernels", "--shapes", "64x64",
                "--batch", "1,16", "--formats", "fp4-g32", "--iterations", "5").getBytes(StandardCharsets.UTF_8));
        BaselineSeeds.write(Path.of("src/test/resources/io/quantgate/gate/BaselineFuzzTestInputs/baselineJson"));
    }

    /** The seeds are valid inputs: the fuzzer starts from the parsers' happy paths, not from an early rejection. */
    @Test
    void everySeedIsAValidInput(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path inputs = RESOURCES.resolve("ParserFuzzTestInputs");
        for (String[] m : new String[][] {{"gguf", "tiny-f32", "m.gguf"}, {"gguf", "tiny-f16", "m16.gguf"},
                {"llama2cCheckpoint", "tiny", "m.bin"}}) {
            Path f = Files.copy(inputs.resolve(m[0]).resolve(m[1]), dir.resolve(m[2]));
            try (ModelWeights w = ModelFiles.open(f.toString());
                 var model = io.quantgate.runtime.model.LlamaModel.load(w, "fp32",
                         io.quantgate.kernels.nativeimpl.ActivationMode.FP32)) {
                org.assertj.core.api.Assertions.assertThat(model.config().dim()).as(m[1]).isEqualTo(16);
            }
        }
        Path hf = Files.createDirectories(dir.resolve("hf"));
        Files.copy(inputs.resolve("safetensors/tiny"), hf.resolve("model.safetensors"));
        Files.copy(inputs.resolve("huggingFaceConfig/tiny"), hf.resolve("config.json"));
        try (ModelWeights w = ModelFiles.open(hf.toString())) {
            org.assertj.core.api.Assertions.assertThat(w.config().nLayers()).isEqualTo(1);
        }
        for (String[] t : new String[][] {{"llama2cTokenizer", "bytes-and-merges", "tokenizer.bin"},
                {"sentencePiece", "bpe", "tokenizer.model"}, {"huggingFaceTokenizer", "bpe-bytelevel", "tokenizer.json"}}) {
            Path f = Files.copy(inputs.resolve(t[0]).resolve(t[1]), dir.resolve(t[2]));
            var tok = io.quantgate.runtime.tokenizer.Tokenizers.load(f);
            int[] ids = tok.encode("Hello, world!  Ünïcödé 123 \t\n the end", true);
            org.assertj.core.api.Assertions.assertThat(tok.decode(ids)).as(t[0]).contains("Hello, world!");
        }
        var record = ResultsJson.read(Files.copy(inputs.resolve("resultsJson/one-record"), dir.resolve("r.json")))
                .results().getFirst();
        org.assertj.core.api.Assertions.assertThat(record.perplexity().pplQuant()).isEqualTo(130.2);
        org.assertj.core.api.Assertions.assertThat(record.throughput().rows()).hasSize(1);
        org.assertj.core.api.Assertions.assertThat(record.gates()).hasSize(1);
    }

    private static void seed(Path inputs, String target, String name, byte[] data) throws IOException {
        Path dir = Files.createDirectories(inputs.resolve(target));
        Files.write(dir.resolve(name), data);
    }

    /** llama2.c's format: 7 int32 header fields, then the fp32 tensors in run.c's order, own classifier (vocab < 0). */
    private static byte[] llama2c(ModelWeights w) {
        var c = w.config();
        int dim = c.dim(), layers = c.nLayers(), heads = c.nHeads(), head = dim / heads, seq = c.seqLen();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ints(out, dim, c.hiddenDim(), layers, heads, c.nKvHeads(), -c.vocabSize(), seq);
        floats(out, w.floats(TensorNames.EMBED));
        for (String t : List.of(TensorNames.ATTN_NORM, TensorNames.Q, TensorNames.K, TensorNames.V, TensorNames.O,
                TensorNames.MLP_NORM, TensorNames.GATE, TensorNames.DOWN, TensorNames.UP)) {
            for (int l = 0; l < layers; l++) {
                floats(out, w.floats(TensorNames.layer(l, t)));
            }
        }
        floats(out, w.floats(TensorNames.NORM));
        floats(out, new float[seq * head / 2]); // freq_cis_real, unused
        floats(out, new float[seq * head / 2]); // freq_cis_imag, unused
        floats(out, w.shapes().containsKey(TensorNames.LM_HEAD) ? w.floats(TensorNames.LM_HEAD)
                : w.floats(TensorNames.EMBED));
        return out.toByteArray();
    }

    private static void ints(ByteArrayOutputStream out, int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putInt(x);
        }
        out.writeBytes(b.array());
    }

    private static void floats(ByteArrayOutputStream out, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        out.writeBytes(b.array());
    }

    /** {@code <unk>}, {@code <s>}, {@code </s>}, the 256 byte pieces, then a few merges. */
    static byte[] llama2cTokenizer() {
        List<String> merges = List.of(" t", "he", " the", "He", "ll", "llo", "Hello", " w", "or", "ld", " world");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ints(out, 16);
        piece(out, 0, "<unk>".getBytes(StandardCharsets.UTF_8));
        piece(out, 0, "\n<s>\n".getBytes(StandardCharsets.UTF_8));
        piece(out, 0, "\n</s>\n".getBytes(StandardCharsets.UTF_8));
        for (int b = 0; b < 256; b++) {
            piece(out, 0, "<0x%02X>".formatted(b).getBytes(StandardCharsets.UTF_8));
        }
        for (int i = 0; i < merges.size(); i++) {
            piece(out, -i, merges.get(i).getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    private static void piece(ByteArrayOutputStream out, float score, byte[] text) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(score).putInt(text.length);
        out.writeBytes(b.array());
        out.writeBytes(text);
    }

    /** A SentencePiece BPE model proto: pieces (1), trainer_spec (2: model_type 3, unk/bos/eos 40-42), normalizer (3). */
    static byte[] sentencePiece() {
        Proto m = new Proto();
        m.message(1, piece("<unk>", 0, 2)).message(1, piece("<s>", 0, 3)).message(1, piece("</s>", 0, 3));
        String[] normal = {"▁", "H", "e", "l", "o", "w", "r", "d", "▁t", "he", "▁the", "ll", "llo", "▁w", "or", "ld"};
        for (int i = 0; i < normal.length; i++) {
            m.message(1, piece(normal[i], -i, 1));
        }
        for (int b = 0; b < 256; b++) {
            m.message(1, piece("<0x%02X>".formatted(b), 0, 6));
        }
        m.message(2, new Proto().varint(3, 2).varint(35, 1).varint(40, 0).varint(41, 1).varint(42, 2));
        m.message(3, new Proto().string(1, "identity").varint(3, 1).varint(4, 1));
        return m.bytes();
    }

    private static Proto piece(String text, float score, int type) {
        Proto p = new Proto().string(1, text).float32(2, score);
        return type == 1 ? p : p.varint(3, type);
    }

    /** A byte-level BPE tokenizer.json (GPT-2 style) with a Split pre-tokenizer and added special tokens. */
    static String huggingFaceTokenizer() {
        StringBuilder vocab = new StringBuilder();
        // GPT-2's byte-to-unicode alphabet: printable bytes stand for themselves, the others for U+0100 onwards
        int id = 0;
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
            String ch = String.valueOf((char) (printable ? b : 256 + shifted++));
            vocab.append(id == 0 ? "" : ",").append(ResultsJson.toJson(ch)).append(':').append(id++);
        }
        for (String s : List.of("Ġt", "he", "Ġthe", "ll", "llo", "Ġw", "or", "ld")) {
            vocab.append(',').append(ResultsJson.toJson(s)).append(':').append(id++);
        }
        int bos = id++, eos = id;
        return """
                {"version":"1.0","added_tokens":[
                 {"id":%d,"content":"<|begin_of_text|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                 {"id":%d,"content":"<|end_of_text|>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
                 "normalizer":null,
                 "pre_tokenizer":{"type":"Sequence","pretokenizers":[
                  {"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+"},"behavior":"Isolated","invert":false},
                  {"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]},
                 "post_processor":null,
                 "decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},
                 "model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,
                  "fuse_unk":false,"byte_fallback":false,"ignore_merges":true,
                  "vocab":{%s},
                  "merges":["Ġ t","h e","Ġt he","l l","ll o","Ġ w","o r","l d"]}}
                """.formatted(bos, eos, vocab);
    }

    static String resultsJson() {
        return """
                {"schema":"quantgate-results/1","quantgate_version":"0.1.0","command":"fuzz seed",
                 "started_at":"2026-12-01T00:00:00Z","written_at":"2026-12-01T00:00:01Z",
                 "machine":{"cpu":"x","cores":2,"simd":["avx2"],"jvm":"25","os":"linux","llc_bytes":33554432},
                 "results":[{"test":{"class":"A","method":"b","display_name":"fp4-g32"},"config":"fp4-g32",
                  "config_format":"fp4","config_group":32,"baseline_config":"fp32","backend":"native","ran":"x",
                  "activations":"fp32","compression_ratio":3.5,"weight_bytes_per_token":1000,
                  "perplexity":{"ctx":512,"mode":"chunked","stride":0,"chunks":2,"scored":510,"stream_tokens":2048,
                   "confidence_level":0.95,"ppl_base":101.5,"ppl_base_stderr":5.7,"ppl_quant":130.2,"ppl_quant_stderr":7.1,
                   "delta_percent":{"estimate":28.3,"low":20.1,"high":36.0,"level":0.95},
                   "kld_mean":{"estimate":0.39,"low":0.35,"high":0.43,"level":0.95},
                   "same_top_percent":{"estimate":58.0,"low":55.0,"high":61.0,"level":0.95},
                   "samples":{"chunk_nll_base":[4.6,4.7],"chunk_nll_quant":[4.9,4.8],"chunk_kld":[0.4,0.38],
                    "chunk_same_top":[0.57,0.59],"chunk_scored":[255,255]}},
                  "throughput":{"level":"kernel","rows":[{"label":"64x64 M=1","level":"kernel","n":64,"k":64,"batch":1,
                   "unit":"GB/s","rounds":5,"rate":{"median":10.0,"mean":10.1,"sd":0.2,"min":9.8,"max":10.4,"n":5}}]},
                  "gates":[{"name":"maxDeltaPercent","verdict":"PASS","subject":"x","threshold":40.0}],"verdict":"PASS",
                  "status":"SUCCESSFUL"}]}
                """;
    }

    /** The smallest protobuf writer the seeds need: varint, fixed32 float, length-delimited. */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long v) {
            raw((long) field << 3);
            raw(v);
            return this;
        }

        Proto float32(int field, float f) {
            raw(((long) field << 3) | 5);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(f).array());
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.bytes());
        }

        private Proto bytes(int field, byte[] b) {
            raw(((long) field << 3) | 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
