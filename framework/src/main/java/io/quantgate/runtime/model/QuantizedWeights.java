package io.quantgate.runtime.model;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.Recipe;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.quantize.LinearQuantizer;

import java.lang.foreign.Arena;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Another model's weights as a {@link QuantizationConfig} makes them: every linear layer quantized under
 * its id and dequantized back to fp32, exactly the values {@link LlamaModel} computes with. This is what
 * {@code quantgate quantize} writes, so that other engines run the very same weights. A tied classifier
 * that the config quantizes (any id but fp32) is untied: the file then holds the quantized {@code lm_head}
 * next to the embedding in its stored precision, as LlamaModel holds them.
 */
public final class QuantizedWeights extends ForwardingWeights {
    private final QuantizationConfig quant;
    private final LlamaConfig config;
    private final Map<String, int[]> shapes;
    private final Map<String, ConfigId> ids = new LinkedHashMap<>();
    private final QuantizationConfig resolved;
    private final LinearQuantizer quantizer;

    public QuantizedWeights(ModelWeights source, QuantizationConfig quant) {
        super(source);
        this.quant = Objects.requireNonNull(quant, "quant");
        this.resolved = CalibratedWeights.resolve(source, quant);
        this.quantizer = new LinearQuantizer(CalibratedWeights.calibrationOf(source));
        LlamaConfig c = source.config();
        Set<String> linears = new java.util.LinkedHashSet<>();
        for (int l = 0; l < c.nLayers(); l++) {
            for (String s : TensorNames.LAYER_LINEARS) {
                linears.add(TensorNames.layer(l, s));
            }
        }
        linears.add(TensorNames.LM_HEAD);
        for (String name : linears) {
            ids.put(name, resolved.idFor(name).orElse(ConfigId.of(WeightFormat.FP32)));
        }
        boolean untie = c.sharedClassifier() && ids.get(TensorNames.LM_HEAD).format() != WeightFormat.FP32;
        this.config = untie ? new LlamaConfig(c.dim(), c.hiddenDim(), c.nLayers(), c.nHeads(), c.nKvHeads(),
                c.headSize(), c.vocabSize(), c.seqLen(), c.ropeTheta(), c.ropeScaling(), c.normEps(), false,
                c.ropeStyle(), c.attentionBias(), c.qkNorm()) : c;
        Map<String, int[]> m = new LinkedHashMap<>(source.shapes());
        if (untie) {
            m.put(TensorNames.LM_HEAD, source.shapes().get(TensorNames.EMBED).clone());
        }
        this.shapes = Collections.unmodifiableMap(m);
    }

    /** The id a tensor is quantized under; empty for tensors that are not linear layers. */
    public Optional<ConfigId> idFor(String name) {
        return shapes.containsKey(name) ? Optional.ofNullable(ids.get(name)) : Optional.empty();
    }

    /**
     * The quantized matrix of a linear layer (codes and scales, for writers that store them as they are),
     * allocated in {@code arena}.
     */
    public QuantizedMatrix quantized(String name, Arena arena) {
        ConfigId id = idFor(name).orElseThrow(() -> new IllegalArgumentException("'" + name + "' is not a linear layer of "
                + source.source()));
        int[] shape = shapes.get(name);
        float[] w = source.floats(name.equals(TensorNames.LM_HEAD) && !source.has(TensorNames.LM_HEAD)
                ? TensorNames.EMBED : name);
        Recipe recipe = resolved.idFor(name).isPresent() ? resolved.recipeFor(name) : Recipe.RTN;
        if (recipe.hadamard()) {
            throw new IllegalArgumentException("tensor '" + name + "' is configured " + id + recipe.suffix() + ": its "
                    + "weights are rotated and only QuantGate's own model rotates the activations to match, so no "
                    + "file can hold it for another engine (drop +had to export)");
        }
        try {
            return quantizer.quantize(name, id, recipe, shape[0], shape[1], w, arena);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source.source() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public float[] floats(String name) {
        Optional<ConfigId> id = idFor(name);
        if (id.isEmpty() || id.get().format() == WeightFormat.FP32) {
            if (!shapes.containsKey(name)) {
                throw new IllegalArgumentException(source.source() + " has no tensor '" + name + "'");
            }
            return source.floats(name.equals(TensorNames.LM_HEAD) && !source.has(TensorNames.LM_HEAD)
                    ? TensorNames.EMBED : name);
        }
        try (Arena arena = Arena.ofConfined()) {
            return quantized(name, arena).dequantize();
        }
    }

    @Override
    public String storedType(String name) {
        Optional<ConfigId> id = idFor(name);
        return id.isPresent() && id.get().format() != WeightFormat.FP32 ? id.get().toString() : source.storedType(name);
    }

    public QuantizationConfig quantization() {
        return quant;
    }

    /** The config with {@code mixed:auto} resolved to its explicit ids (the config itself otherwise). */
    public QuantizationConfig resolvedQuantization() {
        return resolved;
    }

    public ModelWeights unquantized() {
        return source;
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public Map<String, int[]> shapes() {
        return shapes;
    }
}
