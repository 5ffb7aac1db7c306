package io.quantgate.backend.external;

import io.quantgate.kernels.format.QuantizationConfig;
import com.fasterxml.jackson.databind.JsonNode;
import io.quantgate.backend.Backend;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.BackendOptions;
import io.quantgate.backend.EngineFiles;
import io.quantgate.backend.RunPlan;
import io.quantgate.runtime.model.ModelWeights;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code external:<command>}: any program that speaks QuantGate's JSON-lines protocol on stdin/stdout
 * (docs/backends.md § The external-process protocol) — tinygrad, MLC or your own engine. QuantGate writes the
 * weights in a file the engine accepts (GGUF when it holds the config exactly, else safetensors for dense
 * configs), the engine loads it, and answers logits and timings. The command is split on whitespace (no shell);
 * without an argument it comes from the system property {@value #COMMAND_PROPERTY}.
 *
 * <p>{@link #plan} starts the engine once to ask what it accepts ({@code hello}), and remembers the answer.
 */
public final class ExternalProcessBackend implements Backend {
    public static final String NAME = "external";
    public static final String COMMAND_PROPERTY = "quantgate.backend.external";
    static final Duration HELLO_TIMEOUT = Duration.ofSeconds(30);

    private final List<String> command;
    private Hello hello;

    /** The ServiceLoader's instance: its command comes from {@value #COMMAND_PROPERTY}, if set. */
    public ExternalProcessBackend() {
        this(split(System.getProperty(COMMAND_PROPERTY, "")));
    }

    public ExternalProcessBackend(List<String> command) {
        this.command = List.copyOf(command);
    }

    private static List<String> split(String command) {
        String c = command.strip();
        return c.isEmpty() ? List.of() : Arrays.asList(c.split("\\s+"));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return command.isEmpty() ? "external engine (no command given)"
                : "external engine '" + String.join(" ", command) + "'" + (hello != null ? ": " + hello.engine : "");
    }

    @Override
    public Backend withArgument(String argument) {
        List<String> c = split(argument);
        if (c.isEmpty()) {
            throw new IllegalArgumentException("backend 'external:' needs a command, e.g. external:python3 engine.py");
        }
        return new ExternalProcessBackend(c);
    }

    @Override
    public Optional<String> unavailableReason() {
        if (command.isEmpty()) {
            return Optional.of("no command: name it as external:<command> or set -D" + COMMAND_PROPERTY);
        }
        try {
            hello();
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** What the engine said about itself, asked once. */
    synchronized Hello hello() {
        if (hello == null) {
            if (command.isEmpty()) {
                throw new IllegalArgumentException("backend 'external' has no command: name it as external:<command>");
            }
            try (ExternalEngine e = new ExternalEngine(command)) {
                hello = Hello.of(e.request(Protocol.hello(), HELLO_TIMEOUT), e.toString());
            }
        }
        return hello;
    }

    @Override
    public RunPlan plan(ModelWeights weights, QuantizationConfig config) {
        String configId = config.label();
        Hello h = hello();
        String noLogits = h.logits ? null : "the engine says it gives no logits (hello: \"logits\": false)";
        Optional<String> ggufWhy = EngineFiles.ggufCannotHold(weights, config);
        if (h.accepts.contains("gguf") && ggufWhy.isEmpty()) {
            return RunPlan.runs(NAME, configId, h.engine + " on " + EngineFiles.ggufDescription(weights, config), noLogits);
        }
        Optional<String> dtype = EngineFiles.safetensorsDtype(config);
        if (h.accepts.contains("safetensors") && dtype.isPresent()) {
            return RunPlan.runs(NAME, configId, h.engine + " on safetensors " + dtype.get() + " from " + configId
                    + " (exact values)", noLogits);
        }
        return RunPlan.cannotRun(NAME, configId, h.engine + " accepts " + h.accepts + "; "
                + (h.accepts.contains("gguf") ? ggufWhy.orElse("") : "")
                + (h.accepts.contains("safetensors") && dtype.isEmpty()
                ? (h.accepts.contains("gguf") ? "; " : "") + "safetensors holds only fp32/fp16/bf16 exactly" : ""));
    }

    @Override
    public BackendModel open(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        String configId = config.label();
        RunPlan plan = plan(weights, config).requireRunnable();
        Hello h = hello();
        boolean gguf = h.accepts.contains("gguf") && EngineFiles.ggufCannotHold(weights, config).isEmpty();
        Path file = gguf ? EngineFiles.gguf(weights, config, options) : EngineFiles.safetensors(weights, config, options);
        return ExternalBackendModel.start(command, plan, file, gguf ? "gguf" : "safetensors", configId, options);
    }

    /** The engine's answer to {@code hello}. */
    record Hello(String engine, Set<String> accepts, boolean logits) {
        static Hello of(JsonNode reply, String who) {
            JsonNode acc = reply.path("accepts");
            if (!acc.isArray() || acc.isEmpty()) {
                throw new io.quantgate.backend.BackendException("external engine " + who + " answered hello without a "
                        + "non-empty \"accepts\" array (e.g. [\"gguf\"]): " + reply);
            }
            Set<String> a = new LinkedHashSet<>();
            acc.forEach(n -> a.add(n.asText()));
            a.retainAll(Set.of("gguf", "safetensors"));
            if (a.isEmpty()) {
                throw new io.quantgate.backend.BackendException("external engine " + who + " accepts " + acc
                        + ", none of which QuantGate writes (gguf, safetensors)");
            }
            return new Hello(reply.path("engine").asText(who), a, reply.path("logits").asBoolean(false));
        }
    }
}
