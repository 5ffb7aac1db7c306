package io.quantgate.cli;

import io.quantgate.runtime.model.QuantizedWeights;

import java.nio.file.Path;

/** Writing GGUF files: lands with the GGUF writer. */
final class GgufExport {
    private GgufExport() {
    }

    static void write(QuantizedWeights weights, Path out) {
        throw new IllegalArgumentException("GGUF output is not available in this build; write a directory "
                + "(Hugging Face safetensors) instead");
    }
}
