package io.quantgate.harness;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.TensorNames;

/**
 * What one token costs in memory traffic for a model under a configuration, from its shape alone: the same figure for
 * every engine that runs the same weights (the engines are given QuantGate's own codes, so they store as many bytes
 * per weight; docs/backends.md says where an engine stores a tensor wider).
 *
 * @param weightBytesPerToken every linear's codes, scales and zero points (the classifier included) plus one embedding
 *                            row: what one decode step reads besides the KV cache
 * @param kvBytesPerPosition  bytes of the fp32 KV cache (keys and values, all layers) per cached position
 * @param fp16Bytes           fp16 bytes of the linears (for the SPEC §1 compression ratio)
 * @param packedBytes         packed bytes of the linears
 */
public record ModelCost(long weightBytesPerToken, long kvBytesPerPosition, long fp16Bytes, long packedBytes) {

    /**
     * The cost of {@code config} on {@code weights}: {@code mixed:auto} resolved to the ids it chose there (measured
     * once per calibrated weights), other configs by {@link #of(LlamaConfig, QuantizationConfig)}.
     */
    public static ModelCost of(io.quantgate.runtime.model.ModelWeights weights, QuantizationConfig config) {
        return of(weights.config(), io.quantgate.runtime.model.CalibratedWeights.resolve(weights, config));
    }

    /** The cost of {@code config} (mixed rules resolved per tensor; unmatched linears stay fp32) on this shape. */
    public static ModelCost of(LlamaConfig c, QuantizationConfig config) {
        if (config instanceof QuantizationConfig.MixedAuto) {
            throw new IllegalArgumentException("'" + config + "' must be resolved to per-tensor ids before its cost is"
                    + " known");
        }
        int dim = c.dim(), kv = c.kvDim(), q = c.qDim(), hidden = c.hiddenDim();
        long fp16 = 0;
        long packed = 0;
        for (int l = 0; l < c.nLayers(); l++) {
            String[] names = {TensorNames.Q, TensorNames.K, TensorNames.V, TensorNames.O, TensorNames.GATE,
                TensorNames.UP, TensorNames.DOWN};
            int[][] shapes = {{q, dim}, {kv, dim}, {kv, dim}, {dim, q}, {hidden, dim}, {hidden, dim}, {dim, hidden}};
            for (int i = 0; i < names.length; i++) {
                ConfigId id = idFor(config, TensorNames.layer(l, names[i]));
                packed += QuantizedMatrix.packedBytes(id, shapes[i][0], shapes[i][1]);
                fp16 += 2L * shapes[i][0] * shapes[i][1];
            }
        }
        ConfigId head = idFor(config, TensorNames.LM_HEAD);
        packed += QuantizedMatrix.packedBytes(head, c.vocabSize(), dim);
        fp16 += 2L * c.vocabSize() * dim;
        return new ModelCost(packed + 4L * dim, 2L * 4L * c.nLayers() * kv, fp16, packed);
    }

    private static ConfigId idFor(QuantizationConfig config, String tensor) {
        return config.idFor(tensor).orElse(ConfigId.parse("fp32"));
    }

    /** Bytes the KV cache read by a decode step at position {@code pos} (positions 0..pos are attended). */
    public long kvBytesRead(int pos) {
        return kvBytesPerPosition * (pos + 1L);
    }

    /** Average bytes one step of a decode run of {@code tokens} steps from an empty cache reads. */
    public double decodeBytesPerToken(int tokens) {
        return decodeBytesPerToken(0, tokens);
    }

    /** The same for {@code tokens} steps after a prompt of {@code depth}: positions {@code depth .. depth+tokens-1}. */
    public double decodeBytesPerToken(int depth, int tokens) {
        return weightBytesPerToken + (kvBytesRead(depth) + kvBytesRead(depth + tokens - 1)) / 2.0;
    }

    /** fp16 bytes of the linears over their packed bytes (SPEC §1). */
    public double compressionRatio() {
        return (double) fp16Bytes / packedBytes;
    }
}
