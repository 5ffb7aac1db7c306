package io.quantgate.backend.javavector;

import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.Backends;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The java backend against the native LlamaModel (fp32 activations) on the same quantized weights. */
class JavaVectorBackendTest {

    static String stories() {
        Path p = Path.of(System.getProperty("quantgate.data.dir", "../shared/data"), "llama2c-stories260K/stories260K.bin");
        Assumptions.assumeTrue(Files.isRegularFile(p), "stories260K is not at " + p.toAbsolutePath());
        return p.toString();
    }

    @Test
    void logitsAgreeWithTheNativeKernelsOnEveryFormatItRuns() {
        int[] tokens = {1, 403, 407, 261, 378, 30, 41, 7, 99, 500, 2, 17};
        // stories260K (K = 64 and 172: short last groups and a scalar tail) and a shape with K = 256 / 688
        for (String model : new String[] {stories(), "synthetic:tiny"}) {
            try (ModelWeights w = ModelFiles.open(model)) {
                for (String config : new String[] {"fp32", "fp16", "int8-g32", "int8", "int4s-g32", "int4-g128", "int4-g64"}) {
                    try (BackendModel j = Backends.byName("java").open(w, QuantizationConfig.parse(config), BackendOptions.defaults().withThreads(2));
                         LlamaModel n = new LlamaModel(w, QuantizationConfig.parse(config), ActivationMode.FP32, 512, 512)) {
                        float[][] a = j.logits().orElseThrow().logits(tokens);
                        float[][] b = n.forwardBatch(tokens, 0);
                        double worst = 0;
                        for (int i = 0; i < tokens.length; i++) {
                            for (int v = 0; v < a[i].length; v++) {
                                worst = Math.max(worst, Math.abs(a[i][v] - b[i][v]));
                            }
                        }
                        // same weight values; only fp32 summation order differs (and exp/rsqrt implementations)
                        assertThat(worst).as("%s %s", model, config).isLessThan(2e-4);
                        // the timed workloads run, and leave the engine giving the same logits (its parallel sums
                        // may split differently from call to call: equal to fp32 rounding)
                        j.reset();
                        j.decode(tokens);
                        j.reset();
                        j.prefill(tokens);
                        assertThat(j.logits().orElseThrow().logits(tokens)[tokens.length - 1])
                                .containsExactly(a[tokens.length - 1], org.assertj.core.data.Offset.offset(2e-4f));
                    }
                }
            }
        }
    }

    @Test
    void formatsWithoutAKernelCannotRun() {
        try (ModelWeights w = ModelFiles.open("synthetic:tiny")) {
            assertThat(Backends.byName("java").plan(w, QuantizationConfig.parse("fp4-g32")).describe())
                    .isEqualTo("cannot run: the java backend has no kernel for fp4 (it runs fp32, fp16, int8, int4, int4s)");
            assertThat(Backends.byName("java").plan(w, QuantizationConfig.parse("int4s-g32")).describe())
                    .isEqualTo("pure JVM Vector API on QuantGate's int4s-g32 codes (exact), fp32 activations");
        }
    }
}
