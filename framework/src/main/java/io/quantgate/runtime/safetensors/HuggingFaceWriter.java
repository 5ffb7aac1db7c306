package io.quantgate.runtime.safetensors;

import io.quantgate.results.model.AtomicFiles;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.TensorNames;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Writes any {@link ModelWeights} as a Hugging Face model directory transformers can load:
 * {@code model.safetensors} (Hugging Face tensor names, one file) and {@code config.json}.
 *
 * <p>Hugging Face's Llama-family code always applies RoPE as rotate_half, so when the weights use
 * {@link LlamaConfig.RopeStyle#INTERLEAVED} (llama2.c, Meta, GGUF {@code llama}) the q/k rows (and their
 * biases and norms) are permuted with {@link RopePermutation#toHuggingFace}, the inverse of what
 * {@link HuggingFaceModel} undoes for Llama/Mistral. Tensors transformers expects but QuantGate's model
 * lacks because they are zero are written as zeros: Qwen2's q/k/v biases (always present in transformers)
 * and the o_proj bias that {@code attention_bias=true} implies for Llama and Qwen3.
 */
public final class HuggingFaceWriter {
    private HuggingFaceWriter() {
    }

    public static final int DEFAULT_BOS = 1;
    public static final int DEFAULT_EOS = 2;

    /** As {@link #write(ModelWeights, Path, String, Map, int, int)} with bos 1 and eos 2 (Llama 2's ids). */
    public static void write(ModelWeights weights, Path outDir, String dtype, Map<String, String> metadata) {
        write(weights, outDir, dtype, metadata, DEFAULT_BOS, DEFAULT_EOS);
    }

    /**
     * Writes {@code outDir/model.safetensors} and then {@code outDir/config.json}, each atomically.
     *
     * @param dtype    {@code "F32"}, {@code "F16"} or {@code "BF16"} (case-insensitive)
     * @param metadata extra {@code __metadata__} entries of the safetensors header
     * @throws IllegalArgumentException when the dtype is unknown, the architecture has no Hugging Face
     *                                  equivalent for this config, or a value cannot be stored in the dtype
     */
    public static void write(ModelWeights weights, Path outDir, String dtype, Map<String, String> metadata,
                             int bosTokenId, int eosTokenId) {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(outDir, "outDir");
        SafetensorsDtype type = SafetensorsDtype.fromHeader(Objects.requireNonNull(dtype, "dtype").toUpperCase(Locale.ROOT))
                .filter(SafetensorsDtype::isReadableAsFloat)
                .orElseThrow(() -> new IllegalArgumentException("cannot write " + weights.source() + " as dtype '"
                        + dtype + "'; supported: " + SafetensorsDtype.readable()));
        String modelType = weights.fileFormat().equals("llama2c") ? "llama" : weights.architecture();
        if (!HuggingFaceConfig.SUPPORTED.contains(modelType)) {
            throw new IllegalArgumentException("cannot write " + weights.source() + " as a Hugging Face model: "
                    + "architecture '" + modelType + "' is not one of " + HuggingFaceConfig.SUPPORTED);
        }
        LlamaConfig c = weights.config();
        checkExpressible(weights, modelType, c);

        SafetensorsWriter w = new SafetensorsWriter().metadata(Objects.requireNonNullElse(metadata, Map.of()));
        boolean permute = c.ropeStyle() == LlamaConfig.RopeStyle.INTERLEAVED;
        boolean zeroQkvBias = modelType.equals("qwen2") && !c.attentionBias();
        boolean zeroOBias = c.attentionBias() && !modelType.equals("qwen2");
        for (Map.Entry<String, int[]> e : weights.shapes().entrySet()) {
            String name = e.getKey();
            if (name.equals(TensorNames.LM_HEAD) && c.sharedClassifier()) {
                continue; // tie_word_embeddings=true says it; a second copy would only be ignored
            }
            String hfName;
            try {
                hfName = HuggingFaceNames.toHuggingFace(name);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("cannot write " + weights.source() + ": " + ex.getMessage(), ex);
            }
            String within = TensorNames.withinLayer(name);
            w.add(hfName, type, e.getValue(), () -> {
                float[] v = weights.floats(name);
                return permute ? toRotateHalf(within, v, c) : v;
            });
            if (!within.equals(name) && within.equals(TensorNames.O) && zeroOBias) {
                w.add(HuggingFaceNames.toHuggingFace(name).replace(".weight", ".bias"), type, new int[] {c.dim()},
                        new float[c.dim()]);
            }
            if (!within.equals(name) && within.equals(TensorNames.V) && zeroQkvBias) {
                String layer = name.substring(0, name.length() - within.length());
                w.add(HuggingFaceNames.toHuggingFace(layer + TensorNames.Q_BIAS), type, new int[] {c.qDim()},
                        new float[c.qDim()]);
                w.add(HuggingFaceNames.toHuggingFace(layer + TensorNames.K_BIAS), type, new int[] {c.kvDim()},
                        new float[c.kvDim()]);
                w.add(HuggingFaceNames.toHuggingFace(layer + TensorNames.V_BIAS), type, new int[] {c.kvDim()},
                        new float[c.kvDim()]);
            }
        }
        w.write(outDir.resolve(HuggingFaceModel.SINGLE_FILE));

        String torchDtype = switch (type) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> throw new IllegalStateException("unreachable: " + type);
        };
        byte[] json;
        try {
            json = SafetensorsFile.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(
                    HuggingFaceConfig.toJson(modelType, c, torchDtype, bosTokenId, eosTokenId));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a config of plain strings and numbers", e);
        }
        AtomicFiles.write(outDir.resolve(HuggingFaceModel.CONFIG), ch -> {
            ByteBuffer b = ByteBuffer.wrap(json);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /** Refuses configs transformers' class for the model type cannot represent, instead of writing a lie. */
    private static void checkExpressible(ModelWeights weights, String modelType, LlamaConfig c) {
        String why = null;
        if (c.qkNorm() && !modelType.equals("qwen3")) {
            why = "it has q/k norms, which only qwen3 has";
        } else if (!c.qkNorm() && modelType.equals("qwen3")) {
            why = "transformers' qwen3 always applies q/k norms, which this model lacks";
        } else if (c.attentionBias() && modelType.equals("mistral")) {
            why = "it has q/k/v biases, which transformers' mistral cannot load";
        }
        if (why != null) {
            throw new IllegalArgumentException("cannot write " + weights.source() + " as a Hugging Face "
                    + modelType + " model: " + why);
        }
    }

    private static float[] toRotateHalf(String within, float[] v, LlamaConfig c) {
        return switch (within) {
            case TensorNames.Q -> RopePermutation.toHuggingFace(v, c.nHeads(), c.headSize(), c.dim());
            case TensorNames.K -> RopePermutation.toHuggingFace(v, c.nKvHeads(), c.headSize(), c.dim());
            case TensorNames.Q_BIAS -> RopePermutation.toHuggingFace(v, c.nHeads(), c.headSize(), 1);
            case TensorNames.K_BIAS -> RopePermutation.toHuggingFace(v, c.nKvHeads(), c.headSize(), 1);
            case TensorNames.Q_NORM, TensorNames.K_NORM -> RopePermutation.toHuggingFace(v, 1, c.headSize(), 1);
            default -> v;
        };
    }
}
