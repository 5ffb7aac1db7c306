package io.quantgate.runtime.model;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Weights that are another model's weights seen through a decorator ({@link QuantizedWeights},
 * {@link CalibratedWeights}): every method forwards to the source until a subclass says otherwise. Closing does not
 * close the source: whoever opened it does.
 */
abstract class ForwardingWeights implements ModelWeights {
    protected final ModelWeights source;

    ForwardingWeights(ModelWeights source) {
        this.source = Objects.requireNonNull(source, "source");
    }

    @Override
    public Path source() {
        return source.source();
    }

    @Override
    public String fileFormat() {
        return source.fileFormat();
    }

    @Override
    public String architecture() {
        return source.architecture();
    }

    @Override
    public LlamaConfig config() {
        return source.config();
    }

    @Override
    public Map<String, int[]> shapes() {
        return source.shapes();
    }

    @Override
    public float[] floats(String name) {
        return source.floats(name);
    }

    @Override
    public String storedType(String name) {
        return source.storedType(name);
    }

    @Override
    public void close() {
    }
}
