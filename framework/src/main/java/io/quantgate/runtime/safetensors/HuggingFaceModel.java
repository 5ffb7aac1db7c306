package io.quantgate.runtime.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.TensorNames;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face Llama-family model directory ({@code config.json} plus {@code model.safetensors}, or
 * {@code model.safetensors.index.json} and its shards) as {@link ModelWeights} under canonical names.
 *
 * <p>Everything is validated when opening: the config (see {@link HuggingFaceConfig}), that every tensor the
 * config implies is present with exactly the implied shape and a float dtype (F32/F16/BF16), and that no
 * tensor is left over that QuantGate would silently ignore. Tensor data is read lazily from the mapped
 * files by {@link #floats}.
 *
 * <p>RoPE: Llama and Mistral checkpoints store q/k rows permuted for transformers' rotate_half; this reader
 * undoes that ({@link RopePermutation#toInterleaved}) and reports {@link LlamaConfig.RopeStyle#INTERLEAVED},
 * so that weights converted from Meta/llama2.c come back bit-identical (as llama.cpp's converter does).
 * Qwen2/Qwen3 rows are kept and reported as {@link LlamaConfig.RopeStyle#ROTATE_HALF}.
 */
public final class HuggingFaceModel implements ModelWeights {
    public static final String CONFIG = "config.json";
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    /** Where one canonical tensor lives. */
    private record Source(SafetensorsFile file, String hfName, SafetensorsFile.Tensor info) {
    }

    private final Path dir;
    private final Path weightsFile; // the single file or the index, for messages
    private final HuggingFaceConfig hf;
    private final LlamaConfig config;
    private final List<SafetensorsFile> files;
    private final Map<String, Source> sources;
    private final Map<String, int[]> shapes;

    private HuggingFaceModel(Path dir, Path weightsFile, HuggingFaceConfig hf, LlamaConfig config,
                             List<SafetensorsFile> files, Map<String, Source> sources, Map<String, int[]> shapes) {
        this.dir = dir;
        this.weightsFile = weightsFile;
        this.hf = hf;
        this.config = config;
        this.files = files;
        this.sources = sources;
        this.shapes = shapes;
    }

    /**
     * Opens a model from its directory, its config.json, its model.safetensors (or any single .safetensors
     * file next to a config.json) or its model.safetensors.index.json.
     *
     * @throws IllegalArgumentException naming the file at fault when anything is missing, malformed or does
     *                                  not match the config
     */
    public static HuggingFaceModel open(Path path) {
        Objects.requireNonNull(path, "path");
        Path p = path.toAbsolutePath().normalize();
        Path dir;
        Path weights = null;
        if (Files.isDirectory(p)) {
            dir = p;
        } else if (Files.isRegularFile(p)) {
            dir = p.getParent();
            String name = p.getFileName().toString();
            if (name.endsWith(".safetensors") || name.endsWith(".safetensors.index.json")) {
                weights = p;
            } else if (!name.equals(CONFIG)) {
                throw new IllegalArgumentException(p + " is neither a model directory nor its " + CONFIG + ", a "
                        + ".safetensors file or a " + INDEX);
            }
        } else {
            throw new IllegalArgumentException("Hugging Face model " + p + " does not exist");
        }
        Path configFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException("Hugging Face model " + dir + " has no " + CONFIG);
        }
        if (weights == null) {
            // transformers prefers the single file when both exist; so do we
            if (Files.isRegularFile(dir.resolve(SINGLE_FILE))) {
                weights = dir.resolve(SINGLE_FILE);
            } else if (Files.isRegularFile(dir.resolve(INDEX))) {
                weights = dir.resolve(INDEX);
            } else {
                throw new IllegalArgumentException("Hugging Face model " + dir + " has neither " + SINGLE_FILE
                        + " nor " + INDEX);
            }
        }
        HuggingFaceConfig hf = HuggingFaceConfig.read(configFile);
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byName = weights.getFileName().toString().endsWith(".json")
                    ? openShards(weights, files)
                    : openSingle(weights, files);
            return build(dir, weights, hf, files, byName);
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, SafetensorsFile> openSingle(Path file, List<SafetensorsFile> files) {
        SafetensorsFile f = SafetensorsFile.open(file);
        files.add(f);
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        f.tensors().keySet().forEach(n -> byName.put(n, f));
        return byName;
    }

    /** {@code {"weight_map": {tensor: shard file name}}}: every listed tensor must be in its shard. */
    private static Map<String, SafetensorsFile> openShards(Path index, List<SafetensorsFile> files) {
        JsonNode root;
        try {
            root = SafetensorsFile.JSON.readTree(Files.readAllBytes(index));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("safetensors index " + index + " is not valid JSON: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("safetensors index " + index + " cannot be read: " + e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new IllegalArgumentException("safetensors index " + index + " has no weight_map object");
        }
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String shardName = e.getValue().isTextual() ? e.getValue().textValue() : "";
            // shards live next to the index; a path elsewhere is a corrupt (or hostile) index
            if (shardName.isEmpty() || shardName.contains("/") || shardName.contains("\\") || shardName.equals("..")
                    || shardName.equals(".")) {
                throw new IllegalArgumentException("safetensors index " + index + " maps tensor '" + e.getKey()
                        + "' to " + e.getValue() + ", which is not a file name in " + index.getParent());
            }
            SafetensorsFile shard = shards.get(shardName);
            if (shard == null) {
                Path shardPath = index.resolveSibling(shardName);
                if (!Files.isRegularFile(shardPath)) {
                    throw new IllegalArgumentException("safetensors index " + index + " maps tensor '" + e.getKey()
                            + "' to shard " + shardPath + ", which does not exist");
                }
                shard = SafetensorsFile.open(shardPath);
                files.add(shard);
                shards.put(shardName, shard);
            }
            if (!shard.has(e.getKey())) {
                throw new IllegalArgumentException("safetensors index " + index + " maps tensor '" + e.getKey()
                        + "' to shard " + shard.file() + ", which does not contain it");
            }
            byName.put(e.getKey(), shard);
        }
        return byName;
    }

    private static HuggingFaceModel build(Path dir, Path weightsFile, HuggingFaceConfig hf,
                                          List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        String where = weightsFile.toString();
        Map<String, Source> found = new LinkedHashMap<>();
        for (Map.Entry<String, SafetensorsFile> e : byName.entrySet()) {
            String name = e.getKey();
            SafetensorsFile f = e.getValue();
            if (name.endsWith(".rotary_emb.inv_freq")) {
                continue; // older checkpoints store RoPE's frequency table; it is recomputed from rope_theta
            }
            if (name.endsWith(".self_attn.o_proj.bias")) {
                requireZero(f, name); // Llama/Qwen3 with attention_bias=true have one; QuantGate's o has none
                continue;
            }
            String canonical = HuggingFaceNames.toCanonical(name).orElseThrow(() -> new IllegalArgumentException(
                    "tensor '" + name + "' in " + f.file() + " has no place in a " + hf.modelType()
                            + " model; QuantGate would ignore it and compute something else"));
            int layer = HuggingFaceNames.layerOf(name).orElse(-1);
            if (layer >= hf.numLayers()) {
                throw new IllegalArgumentException("tensor '" + name + "' in " + f.file() + " belongs to layer "
                        + layer + ", but " + hf.file() + " has num_hidden_layers=" + hf.numLayers());
            }
            if (canonical.equals(TensorNames.LM_HEAD) && hf.tieWordEmbeddings()) {
                continue; // tied: the classifier is the embedding, whatever copy the file also carries
            }
            found.put(canonical, new Source(f, name, f.tensor(name)));
        }
        boolean bias = hf.attentionBias() || anyLayerHas(found, hf.numLayers(), TensorNames.Q_BIAS, TensorNames.K_BIAS,
                TensorNames.V_BIAS);
        boolean qkNorm = anyLayerHas(found, hf.numLayers(), TensorNames.Q_NORM, TensorNames.K_NORM);
        LlamaConfig c = hf.toLlamaConfig(bias, qkNorm);

        Map<String, int[]> expected = expectedShapes(c);
        Map<String, Source> sources = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            String canonical = e.getKey();
            Source s = found.remove(canonical);
            if (s == null) {
                throw new IllegalArgumentException(where + " has no tensor '" + HuggingFaceNames.toHuggingFace(canonical)
                        + "', which " + hf.file() + " (" + describe(hf, bias, qkNorm) + ") requires");
            }
            if (!Arrays.equals(s.info().shape(), e.getValue())) {
                throw new IllegalArgumentException("tensor '" + s.hfName() + "' in " + s.file().file() + " has shape "
                        + Arrays.toString(s.info().shape()) + ", but " + hf.file() + " (" + describe(hf, bias, qkNorm)
                        + ") implies " + Arrays.toString(e.getValue()));
            }
            if (!s.info().dtype().isReadableAsFloat()) {
                throw new IllegalArgumentException("tensor '" + s.hfName() + "' in " + s.file().file()
                        + " has unsupported dtype " + s.info().dtype() + "; QuantGate reads "
                        + SafetensorsDtype.readable() + " (quantized checkpoints are not read)");
            }
            sources.put(canonical, s);
        }
        if (!found.isEmpty()) {
            // only possible for partial bias/norm sets: the rest were required and matched above
            Source s = found.values().iterator().next();
            throw new IllegalArgumentException("tensor '" + s.hfName() + "' in " + s.file().file() + " does not fit "
                    + hf.file() + " (" + describe(hf, bias, qkNorm) + ")");
        }
        return new HuggingFaceModel(dir, weightsFile, hf, c, List.copyOf(files), Collections.unmodifiableMap(sources),
                Collections.unmodifiableMap(expected));
    }

    private static boolean anyLayerHas(Map<String, Source> found, int layers, String... suffixes) {
        for (int l = 0; l < layers; l++) {
            for (String s : suffixes) {
                if (found.containsKey(TensorNames.layer(l, s))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void requireZero(SafetensorsFile f, String name) {
        float[] v = f.floats(name);
        for (int i = 0; i < v.length; i++) {
            if (v[i] != 0f) {
                throw new IllegalArgumentException("tensor '" + name + "' in " + f.file() + " is a non-zero output "
                        + "projection bias (" + v[i] + " at index " + i + "); QuantGate's attention has none");
            }
        }
    }

    /** Every tensor the config implies, canonical name → shape, in forward order. */
    static Map<String, int[]> expectedShapes(LlamaConfig c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put(TensorNames.EMBED, new int[] {c.vocabSize(), c.dim()});
        for (int l = 0; l < c.nLayers(); l++) {
            m.put(TensorNames.layer(l, TensorNames.ATTN_NORM), new int[] {c.dim()});
            m.put(TensorNames.layer(l, TensorNames.Q), new int[] {c.qDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.K), new int[] {c.kvDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.V), new int[] {c.kvDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.O), new int[] {c.dim(), c.qDim()});
            if (c.attentionBias()) {
                m.put(TensorNames.layer(l, TensorNames.Q_BIAS), new int[] {c.qDim()});
                m.put(TensorNames.layer(l, TensorNames.K_BIAS), new int[] {c.kvDim()});
                m.put(TensorNames.layer(l, TensorNames.V_BIAS), new int[] {c.kvDim()});
            }
            if (c.qkNorm()) {
                m.put(TensorNames.layer(l, TensorNames.Q_NORM), new int[] {c.headSize()});
                m.put(TensorNames.layer(l, TensorNames.K_NORM), new int[] {c.headSize()});
            }
            m.put(TensorNames.layer(l, TensorNames.MLP_NORM), new int[] {c.dim()});
            m.put(TensorNames.layer(l, TensorNames.GATE), new int[] {c.hiddenDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.UP), new int[] {c.hiddenDim(), c.dim()});
            m.put(TensorNames.layer(l, TensorNames.DOWN), new int[] {c.dim(), c.hiddenDim()});
        }
        m.put(TensorNames.NORM, new int[] {c.dim()});
        if (!c.sharedClassifier()) {
            m.put(TensorNames.LM_HEAD, new int[] {c.vocabSize(), c.dim()});
        }
        return m;
    }

    private static String describe(HuggingFaceConfig hf, boolean bias, boolean qkNorm) {
        return hf.modelType() + ", hidden_size=" + hf.hiddenSize() + ", intermediate_size=" + hf.intermediateSize()
                + ", num_hidden_layers=" + hf.numLayers() + ", num_attention_heads=" + hf.numHeads()
                + ", num_key_value_heads=" + hf.numKvHeads() + ", head_dim=" + hf.headDim() + ", vocab_size="
                + hf.vocabSize() + ", tie_word_embeddings=" + hf.tieWordEmbeddings()
                + (bias ? ", q/k/v biases" : "") + (qkNorm ? ", q/k norms" : "");
    }

    /** The parsed config.json. */
    public HuggingFaceConfig huggingFaceConfig() {
        return hf;
    }

    /** The Hugging Face name a canonical tensor was read from. */
    public String huggingFaceName(String canonical) {
        return source(canonical).hfName();
    }

    private Source source(String canonical) {
        Source s = sources.get(canonical);
        if (s == null) {
            throw new IllegalArgumentException("Hugging Face model " + dir + " has no tensor '" + canonical
                    + "' (has: " + sources.keySet() + ")");
        }
        return s;
    }

    /** The model directory. */
    @Override
    public Path source() {
        return dir;
    }

    /** model.safetensors, or the index of a sharded model. */
    public Path weightsFile() {
        return weightsFile;
    }

    @Override
    public String fileFormat() {
        return "safetensors";
    }

    @Override
    public String architecture() {
        return hf.modelType();
    }

    @Override
    public LlamaConfig config() {
        return config;
    }

    @Override
    public Map<String, int[]> shapes() {
        Map<String, int[]> copy = new LinkedHashMap<>();
        shapes.forEach((k, v) -> copy.put(k, v.clone()));
        return Collections.unmodifiableMap(copy);
    }

    /**
     * The tensor as fp32; q/k projections (and their biases and norms) of Llama/Mistral come back in the
     * interleaved row order {@link #config()} reports.
     */
    @Override
    public float[] floats(String name) {
        Source s = source(name);
        float[] v = s.file().floats(s.hfName());
        if (!HuggingFaceConfig.permutedFromInterleaved(hf.modelType())) {
            return v;
        }
        return switch (TensorNames.withinLayer(name)) {
            case TensorNames.Q -> RopePermutation.toInterleaved(v, config.nHeads(), config.headSize(), config.dim());
            case TensorNames.K -> RopePermutation.toInterleaved(v, config.nKvHeads(), config.headSize(), config.dim());
            case TensorNames.Q_BIAS -> RopePermutation.toInterleaved(v, config.nHeads(), config.headSize(), 1);
            case TensorNames.K_BIAS -> RopePermutation.toInterleaved(v, config.nKvHeads(), config.headSize(), 1);
            case TensorNames.Q_NORM, TensorNames.K_NORM -> RopePermutation.toInterleaved(v, 1, config.headSize(), 1);
            default -> v;
        };
    }

    @Override
    public String storedType(String name) {
        return source(name).info().dtype().name();
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return "HuggingFaceModel[" + weightsFile + ", " + hf.modelType() + ", " + config + "]";
    }
}
