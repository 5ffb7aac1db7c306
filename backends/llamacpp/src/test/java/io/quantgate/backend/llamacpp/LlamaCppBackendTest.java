package io.quantgate.backend.llamacpp;

import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.Backends;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.gguf.GgufFile;
import io.quantgate.runtime.model.ModelWeights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LlamaCppBackendTest {
    @TempDir
    Path work;

    static Path stories() {
        Path p = Path.of(System.getProperty("quantgate.data.dir", "../shared/data"), "llama2c-stories260K/stories260K.bin");
        Assumptions.assumeTrue(Files.isRegularFile(p), "stories260K is not at " + p.toAbsolutePath());
        return p;
    }

    @Test
    void plansSayExactlyWhichGgufTypeRunsAndRefuseTheRest() {
        Backend b = Backends.byName("llamacpp");
        try (ModelWeights w = ModelFiles.open(stories().toString())) {
            assertThat(b.plan(w, QuantizationConfig.parse("fp16")).describe())
                    .isEqualTo("llama.cpp GGUF F16 from fp16 (exact values), activations converted to F16 by llama.cpp");
            // stories260K's down projections have K = 172, which no 32-block covers: stated, not hidden
            assertThat(b.plan(w, QuantizationConfig.parse("int4s-g32")).describe()).isEqualTo("llama.cpp GGUF "
                    + "{F32=5, Q4_0=31} from int4s-g32 (bit-exact: QuantGate's codes and fp16 scales; 5 linear(s) with "
                    + "K % 32 != 0 as F32 of the same values), activations quantized to Q8_0 (int8, blocks of 32) by "
                    + "llama.cpp");
            RunPlan no = b.plan(w, QuantizationConfig.parse("int4-g128"));
            assertThat(no.describe()).startsWith("cannot run: GGUF has no type that holds int4-g128 exactly");
            assertThat(b.plan(w, QuantizationConfig.parse("int8")).describe()).startsWith("cannot run: ")
                    .contains("only int8-g32 maps to it");
            assertThat(b.plan(w, QuantizationConfig.parse("fp16")).givesLogits()).isTrue();
        }
    }

    @Test
    void runsTheGgufQuantGateWritesAndSaysWhatRan() throws Exception {
        LlamaCppLibrary lib = Installed.library();
        try (ModelWeights w = ModelFiles.open(stories().toString());
             BackendModel m = new LlamaCppBackend().open(w, QuantizationConfig.parse("int8-g32"),
                     BackendOptions.defaults().withWorkDir(work).withThreads(1))) {
            assertThat(m.plan().runs()).contains("Q8_0").contains("llama.cpp " + LlamaCppLibrary.SUPPORTED_VERSION)
                    .contains("CPU variant " + lib.cpuVariant).contains("1 threads");
            Path gguf;
            try (var files = Files.list(work)) {
                gguf = files.filter(f -> f.toString().endsWith(".gguf")).findFirst().orElseThrow();
            }
            try (GgufFile f = GgufFile.open(gguf)) {
                assertThat(f.storedType("layers.0.attn.q")).isEqualTo("Q8_0");
            }
            int[] prompt = new int[64];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + (i * 37) % 511;
            }
            assertThatCode(() -> {
                m.reset();
                m.prefill(prompt);
                m.decode(new int[16]);
                m.prefill(prompt);
                m.decodeAfter(prompt.length, new int[16]); // a decode at depth 64: positions 64..79 on the prompt's cache
                m.prefill(new int[512]); // a full-context prompt
            }).doesNotThrowAnyException();
            assertThat(m.cannotDecodeAfterPrompt()).isEmpty();
            assertThatThrownBy(() -> m.decodeAfter(500, new int[16])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("decode of 16 steps after 500 positions does not fit the context of 512");
            // refused in Java, before any native call
            assertThatThrownBy(() -> m.prefill(new int[513])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("do not fit the context of 512");
            assertThatThrownBy(() -> m.decode(new int[] {1, 512})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("outside the vocabulary");
            // logits: every position's row, the same whatever ran before (the cache is emptied first)
            LogitsModel lm = m.logits().orElseThrow();
            float[][] a = lm.logits(prompt);
            m.decode(new int[] {5, 6, 7});
            float[][] b = lm.logits(prompt);
            assertThat(a).hasDimensions(64, 512);
            assertThat(b).isDeepEqualTo(a);
            float[][] tail = lm.logits(prompt, 32);
            assertThat(tail[0]).isNull();
            assertThat(tail[40]).isEqualTo(a[40]);
        }
    }

    @Test
    void aModelWithoutVocabularyNeedsATokenizer() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny")) {
            assertThatThrownBy(() -> new LlamaCppBackend().open(w, QuantizationConfig.parse("fp16"),
                    BackendOptions.defaults().withWorkDir(work)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a vocabulary");
        }
    }
}
