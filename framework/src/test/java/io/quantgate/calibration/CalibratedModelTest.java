package io.quantgate.calibration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quantgate.backend.EngineFiles;
import io.quantgate.backend.NativeBackend;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.quantize.Gptq;
import io.quantgate.quantize.MixedAssignment;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.TestData;
import io.quantgate.runtime.TextFiles;
import io.quantgate.runtime.gguf.GgmlType;
import io.quantgate.runtime.gguf.GgufExport;
import io.quantgate.runtime.model.CalibratedWeights;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.QuantizedWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Calibrated configs on the real stories260K model: calibration on groups_merged.txt, evaluated on WikiText-2 test
 * chunks (never the calibration text).
 */
class CalibratedModelTest {
    private static ModelWeights weights;
    private static CalibratedWeights calibrated;
    private static List<int[]> evalChunks;

    @BeforeAll
    static void calibrate() {
        weights = ModelFiles.open(TestData.stories260K().toString());
        Tokenizer tok = ModelFiles.tokenizer(weights, TestData.tok512().toString());
        calibrated = CalibrationRunner.calibrate(weights, tok, TestData.file("calibration/groups_merged.txt"),
                new CalibrationOptions(32, 256, 0, 2), null);
        int[] test = tok.encode(TextFiles.readUtf8(TestData.wikiTestRaw(), "test"), true);
        evalChunks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int[] c = Arrays.copyOfRange(test, i * 256, (i + 1) * 256);
            c[0] = tok.bos();
            evalChunks.add(c);
        }
    }

    @AfterAll
    static void close() {
        if (weights != null) {
            weights.close();
        }
    }

    private static float[][][] logits(ModelWeights w, String config) {
        float[][][] out = new float[evalChunks.size()][][];
        try (LlamaModel m = new LlamaModel(w, QuantizationConfig.parse(config), ActivationMode.FP32, 256, 256)) {
            for (int i = 0; i < out.length; i++) {
                m.reset();
                out[i] = m.forwardBatch(evalChunks.get(i), 0);
            }
        }
        return out;
    }

    private static double[] logSoftmax(float[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (float v : z) {
            s += Math.exp(v - max);
        }
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            out[i] = z[i] - max - Math.log(s);
        }
        return out;
    }

    private static double meanKld(float[][][] p, float[][][] q) {
        double s = 0;
        int n = 0;
        for (int i = 0; i < p.length; i++) {
            for (int t = 128; t < p[i].length - 1; t++) {
                double[] lp = logSoftmax(p[i][t]);
                double[] lq = logSoftmax(q[i][t]);
                for (int v = 0; v < lp.length; v++) {
                    s += Math.exp(lp[v]) * (lp[v] - lq[v]);
                }
                n++;
            }
        }
        return s / n;
    }

    @Test
    void calibrationRecordsWhatItRan() {
        var c = calibrated.calibration();
        assertThat(c.chunks()).isEqualTo(32);
        assertThat(c.ctx()).isEqualTo(256);
        assertThat(c.tokens()).isEqualTo(32L * 256);
        assertThat(c.sha256()).hasSize(64);
        assertThat(c.dataset()).isEqualTo("groups_merged.txt");
        // q|k|v, o, gate|up, down per layer, and the classifier
        assertThat(c.grams()).hasSize(5 * 4 + 1);
        assertThat(c.gram("layers.3.attn.k").rows()).isEqualTo(32L * 256);
        assertThat(c.gram("layers.3.mlp.down").k()).isEqualTo(weights.config().hiddenDim());
    }

    /** GPTQ and imatrix bring the quantized model closer to the unquantized one than round to nearest. */
    @Test
    void calibratedRecipesBeatRoundToNearest() {
        float[][][] base = logits(weights, "fp32");
        double rtn = meanKld(base, logits(calibrated, "int4-g64"));
        double gptq = meanKld(base, logits(calibrated, "int4-g64+gptq+act"));
        double imatrix = meanKld(base, logits(calibrated, "int4-g64+imatrix"));
        double fp4 = meanKld(base, logits(calibrated, "fp4-g64"));
        double fp4gptq = meanKld(base, logits(calibrated, "fp4-g64+gptq"));
        assertThat(gptq).as("GPTQ vs RTN KLD (RTN %.4f)", rtn).isLessThan(0.8 * rtn);
        assertThat(imatrix).as("imatrix vs RTN KLD (RTN %.4f)", rtn).isLessThan(rtn);
        assertThat(fp4gptq).as("fp4 GPTQ vs RTN KLD (RTN %.4f)", fp4).isLessThan(0.9 * fp4);
    }

    /** A rotated unquantized model computes the same function: the rotation is exact up to fp32 rounding. */
    @Test
    void rotatedUnquantizedModelGivesTheSameLogits() {
        float[][][] plain = logits(weights, "fp32");
        for (String cfg : List.of("fp32+had", "mixed:attn.*=fp32+had,mlp.down=fp32+had")) {
            float[][][] rotated = logits(weights, cfg);
            for (int i = 0; i < plain.length; i++) {
                for (int t = 0; t < plain[i].length; t++) {
                    for (int v = 0; v < plain[i][t].length; v++) {
                        assertThat(rotated[i][t][v]).as("%s chunk %d position %d token %d", cfg, i, t, v)
                                .isCloseTo(plain[i][t][v], org.assertj.core.data.Offset.offset(2e-3f));
                    }
                }
            }
        }
        // and rotation before 4-bit quantization still gives a working model (closer than nothing to fp32)
        double had = meanKld(plain, logits(calibrated, "fp4-g32+had+gptq"));
        assertThat(had).isFinite().isLessThan(0.5);
    }

    /**
     * GPTQ's output is ordinary codes: QuantizedWeights (what exports write) holds exactly what GPTQ gives on the
     * calibration's Hessian, and int4s-g32+gptq exports as Q4_0 like its round-to-nearest twin.
     */
    @Test
    void calibratedCodesExportUnchanged() {
        QuantizationConfig cfg = QuantizationConfig.parse("int4s-g32+gptq");
        QuantizedWeights q = new QuantizedWeights(calibrated, cfg);
        String name = "layers.2.attn.o";
        int[] shape = weights.shapes().get(name);
        try (Arena arena = Arena.ofConfined()) {
            float[] direct = Gptq.quantize(ConfigId.parse("int4s-g32"), shape[0], shape[1], weights.floats(name),
                    calibrated.calibration().gram(name).hessian(), false, Gptq.DEFAULT_DAMPING, arena, name)
                    .dequantize();
            assertThat(q.floats(name)).containsExactly(direct);
        }
        assertThat(EngineFiles.ggufCannotHold(calibrated, cfg)).isEmpty();
        assertThat(GgufExport.typeFor(q, name)).isEqualTo(GgmlType.Q4_0);
        assertThat(EngineFiles.ggufCannotHold(calibrated, QuantizationConfig.parse("int4s-g32+had+gptq")))
                .hasValueSatisfying(why -> assertThat(why).contains("rotates weights (+had)"));
    }

    @Test
    void withoutCalibrationACalibratedConfigSaysWhatIsMissing() {
        assertThatThrownBy(() -> new LlamaModel(weights, QuantizationConfig.parse("int4-g64+gptq"), ActivationMode.FP32,
                16)).hasMessageContaining("config 'int4-g64+gptq' needs calibration activations")
                .hasMessageContaining("--calibration FILE");
        assertThat(new NativeBackend().plan(weights, QuantizationConfig.parse("mixed:auto[4.5]")).cannotRun())
                .contains("mixed:auto measures each tensor's sensitivity");
        assertThat(new NativeBackend().plan(calibrated, QuantizationConfig.parse("int4-g64+gptq")).runnable()).isTrue();
    }

    @Test
    void mixedAutoStaysInBudgetAndIsRememberedForTheRun() {
        QuantizationConfig.MixedAuto auto = (QuantizationConfig.MixedAuto) QuantizationConfig.parse(
                "mixed:auto[fp4-g128,fp4,int8]");
        MixedAssignment a = calibrated.resolve(auto);
        assertThat(calibrated.resolve(auto)).isSameAs(a);
        assertThat(a.ids()).hasSize(5 * 7 + 1);
        assertThat(a.ids().values()).allSatisfy(id -> assertThat(id.format().id()).isIn("fp4", "int8"));
        assertThat(a.bitsPerWeight()).isLessThanOrEqualTo(a.budgetBitsPerWeight() + 1e-12);
        assertThat(a.budgetBitsPerWeight()).isCloseTo(4.2562, org.assertj.core.data.Offset.offset(1e-3));
        try (LlamaModel m = new LlamaModel(calibrated, auto, ActivationMode.FP32, 16, 256)) {
            a.ids().forEach((t, id) -> assertThat(m.linearIds().get(t)).as(t).isEqualTo(id));
        }
        // a budget below every candidate is an error naming what is reachable
        assertThatThrownBy(() -> calibrated.resolve(new QuantizationConfig.MixedAuto(3.0)))
                .hasMessageContaining("above the budget of 3.0000");
    }
}
