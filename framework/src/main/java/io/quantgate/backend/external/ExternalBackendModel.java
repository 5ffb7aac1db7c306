package io.quantgate.backend.external;

import com.fasterxml.jackson.databind.JsonNode;
import io.quantgate.backend.BackendException;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.Prompts;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A model loaded in a running external engine; timings are the ones the engine reports. */
final class ExternalBackendModel implements BackendModel, LogitsModel {
    private final ExternalEngine engine;
    private final RunPlan plan;
    private final int ctx;
    private final int vocab;
    private final Duration timeout;

    private ExternalBackendModel(ExternalEngine engine, RunPlan plan, int ctx, int vocab, Duration timeout) {
        this.engine = engine;
        this.plan = plan;
        this.ctx = ctx;
        this.vocab = vocab;
        this.timeout = timeout;
    }

    static ExternalBackendModel start(List<String> command, RunPlan plan, Path file, String format, String config,
                                      BackendOptions options) {
        ExternalEngine e = new ExternalEngine(command);
        try {
            e.request(Protocol.hello(), ExternalProcessBackend.HELLO_TIMEOUT);
            JsonNode r = e.request(Protocol.load(file.toString(), format, config, options.contextLength(),
                    options.threads()), options.timeout().multipliedBy(10));
            int vocab = r.path("vocab").asInt(-1);
            if (vocab < 1) {
                throw new BackendException("external engine " + e + " answered load without a positive \"vocab\": " + r);
            }
            return new ExternalBackendModel(e, plan, options.contextLength(), vocab, options.timeout());
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
    }

    @Override
    public RunPlan plan() {
        return plan;
    }

    @Override
    public int contextLength() {
        return ctx;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public Optional<LogitsModel> logits() {
        return plan.givesLogits() ? Optional.of(this) : Optional.empty();
    }

    @Override
    public float[][] logits(int[] tokens) {
        return logits(tokens, 0);
    }

    @Override
    public float[][] logits(int[] tokens, int firstRow) {
        Prompts.check(tokens, ctx, vocab, "logits");
        if (firstRow < 0 || firstRow >= tokens.length) {
            throw new IllegalArgumentException("first row " + firstRow + " is outside 0.." + (tokens.length - 1));
        }
        JsonNode rows = engine.request(Protocol.logits(tokens, firstRow), timeout).path("rows");
        int expected = tokens.length - firstRow;
        if (!rows.isArray() || rows.size() != expected) {
            throw new BackendException("external engine " + engine + " answered logits with " + (rows.isArray()
                    ? rows.size() + " rows" : "no \"rows\" array") + ", expected " + expected + " (positions "
                    + firstRow + ".." + (tokens.length - 1) + ")");
        }
        float[][] out = new float[tokens.length][];
        for (int i = 0; i < expected; i++) {
            JsonNode row = rows.get(i);
            if (!row.isArray() || row.size() != vocab) {
                throw new BackendException("external engine " + engine + ": logits row " + (firstRow + i) + " has "
                        + (row.isArray() ? row.size() : 0) + " values, expected the vocabulary size " + vocab);
            }
            float[] r = new float[vocab];
            for (int v = 0; v < vocab; v++) {
                JsonNode x = row.get(v);
                if (!x.isNumber()) {
                    throw new BackendException("external engine " + engine + ": logits row " + (firstRow + i)
                            + " holds a non-number at " + v + ": " + x);
                }
                r[v] = (float) x.asDouble();
            }
            out[firstRow + i] = r;
        }
        return out;
    }

    @Override
    public void reset() {
        // every bench request starts from an empty cache (docs/backends.md, the protocol)
    }

    /**
     * Timed by the harness from this side of the pipe: the engine's own {@code prefill_seconds} is checked (the
     * protocol requires it) but never used as the measurement, so an engine cannot report itself faster than it is.
     */
    @Override
    public void prefill(int[] prompt) {
        Prompts.check(prompt, ctx, vocab, "prefill");
        checkSeconds(engine.request(Protocol.benchPrefill(prompt), timeout), "prefill_seconds");
    }

    @Override
    public void decode(int[] tokens) {
        Prompts.check(tokens, ctx, vocab, "decode");
        checkSeconds(engine.request(Protocol.benchDecode(tokens), timeout), "decode_seconds");
    }

    private void checkSeconds(JsonNode reply, String field) {
        JsonNode s = reply.path(field);
        if (!s.isNumber() || !(s.asDouble() > 0) || Double.isInfinite(s.asDouble())) {
            throw new BackendException("external engine " + engine + " answered bench without a positive finite \""
                    + field + "\": " + reply);
        }
    }

    @Override
    public void close() {
        engine.close();
    }
}
