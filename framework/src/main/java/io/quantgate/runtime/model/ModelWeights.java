package io.quantgate.runtime.model;

import java.nio.file.Path;
import java.util.Map;

/**
 * The stored weights of a Llama-family model, whatever the file format (llama2.c checkpoint, GGUF,
 * safetensors, synthetic), under {@link TensorNames canonical names}. Implementations map their files and
 * read a tensor only when asked, so multi-GB files cost no heap until a tensor is converted.
 */
public interface ModelWeights extends AutoCloseable {

    /** The file (or directory) the weights came from; {@code synthetic:<shape>} models return a pseudo path. */
    Path source();

    /** {@code "llama2c"}, {@code "gguf"}, {@code "safetensors"} or {@code "synthetic"}. */
    String fileFormat();

    /** {@code "llama"}, {@code "mistral"}, {@code "qwen2"} or {@code "qwen3"}. */
    String architecture();

    LlamaConfig config();

    /**
     * Every tensor, canonical name → shape ({@code [rows, cols]} for matrices, {@code [n]} for vectors), in a
     * stable order (embedding, layers, final norm, classifier).
     */
    Map<String, int[]> shapes();

    default boolean has(String name) {
        return shapes().containsKey(name);
    }

    /**
     * A heap copy of one tensor as fp32, row-major; dequantized when the file stores it quantized.
     *
     * @throws IllegalArgumentException naming the file and tensor when the tensor is absent or its data is bad
     */
    float[] floats(String name);

    /** How the file stores the tensor: {@code "F32"}, {@code "F16"}, {@code "BF16"}, {@code "Q4_0"}, ... */
    String storedType(String name);

    @Override
    void close();
}
