package io.quantgate.runtime.gguf;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.runtime.model.QuantizedWeights;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Writes {@link QuantizedWeights} as GGUF so llama.cpp runs the very same weights: fp32 → F32, fp16 → F16,
 * {@code int8-g32} → Q8_0 and {@code int4s-g32} → Q4_0 with QuantGate's own codes and fp16 scales (the same
 * dequantized values, see docs/formats.md), and every other id as its dequantized values in F32, which is
 * exact. A Q8_0/Q4_0 tensor whose K is not a multiple of 32 (ggml blocks cannot be short) is also written
 * as F32 dequantized values.
 */
public final class GgufExport {
    private GgufExport() {
    }

    public static Map<String, String> write(QuantizedWeights q, Path out, Map<String, Object> extraMetadata) {
        Map<String, String> stored = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Object> meta = new LinkedHashMap<>(extraMetadata);
            meta.put("quantgate.config", q.quantization().toString());
            GgufWriter.writeModel(q, out, name -> {
                GgmlType t = typeFor(q, name);
                stored.put(name, t.name());
                return t;
            }, name -> {
                GgmlType t = typeFor(q, name);
                if (t != GgmlType.Q8_0 && t != GgmlType.Q4_0) {
                    return null;
                }
                QuantizedMatrix m = q.quantized(name, arena);
                return t == GgmlType.Q8_0 ? BlockQ8_0.encode(m) : BlockQ4_0.encode(m);
            }, meta);
        }
        return stored;
    }

    public static GgmlType typeFor(QuantizedWeights q, String name) {
        Optional<ConfigId> id = q.idFor(name);
        if (id.isEmpty()) {
            return GgmlType.F32; // the embedding, in its stored precision
        }
        ConfigId c = id.get();
        int k = q.shapes().get(name)[1];
        boolean blocks = k % 32 == 0 && c.effectiveGroup(k) == 32;
        if (c.format() == WeightFormat.FP16) {
            return GgmlType.F16;
        } else if (c.format() == WeightFormat.INT8 && blocks) {
            return GgmlType.Q8_0;
        } else if (c.format() == WeightFormat.INT4S && blocks) {
            return GgmlType.Q4_0;
        }
        return GgmlType.F32;
    }
}
