package io.quantgate.evaluation;

import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.TestData;
import io.quantgate.runtime.model.Llama2cCheckpoint;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.Reference64;
import io.quantgate.runtime.tokenizer.Llama2cTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Perplexity of the real stories260K on the real wiki.test.raw through the whole stack (tokenizer, native
 * kernels, fused attention, evaluator) against an independent fp64 forward pass that shares no code with
 * {@link LlamaModel}, on the same chunks.
 */
class StoriesPerplexityTest {

    @Test
    void fp32PerplexityAgreesWithTheFp64ReferencePath() throws Exception {
        String text = Files.readString(TestData.wikiTestRaw(), StandardCharsets.UTF_8);
        int[] tokens = Llama2cTokenizer.load(TestData.tok512()).encode(text, true);
        PerplexityOptions options = PerplexityOptions.defaults().withChunks(4);
        try (Llama2cCheckpoint ck = Llama2cCheckpoint.open(TestData.stories260K());
             LlamaModel model = LlamaModel.load(ck, "fp32", ActivationMode.FP32)) {
            PerplexityResult fast = PerplexityEvaluator.evaluate(new LlamaLogitsModel(model), tokens, options);
            Reference64 ref = new Reference64(ck);
            LogitsModel slow = new LogitsModel() {
                @Override
                public float[][] logits(int[] t) {
                    double[][] d = ref.run(t);
                    float[][] f = new float[d.length][];
                    for (int i = 0; i < d.length; i++) {
                        f[i] = new float[d[i].length];
                        for (int j = 0; j < d[i].length; j++) {
                            f[i][j] = (float) d[i][j];
                        }
                    }
                    return f;
                }

                @Override
                public int vocabSize() {
                    return 512;
                }
            };
            PerplexityResult exact = PerplexityEvaluator.evaluate(slow, tokens, options);
            System.out.printf("stories260K wiki.test.raw, 4 chunks ctx 512: fp32 path ppl %.6f, fp64 reference %.6f%n",
                    fast.ppl(), exact.ppl());
            assertThat(fast.chunks()).isEqualTo(4);
            assertThat(fast.scored()).isEqualTo(4 * 255);
            // fp32 logits differ from fp64 by ~1e-5 absolute (LlamaModelTest); a token's NLL by a few 1e-5
            assertThat(Math.abs(fast.ppl() / exact.ppl() - 1)).isLessThan(2e-5);
            for (int i = 0; i < fast.tokenNll().length; i++) {
                assertThat(Math.abs(fast.tokenNll()[i] - exact.tokenNll()[i])).as("token %d", i).isLessThan(2e-4);
            }
            assertThat(fast.ppl()).isBetween(20.0, 1000.0); // a TinyStories model on Wikipedia: finite, high
        }
    }
}
