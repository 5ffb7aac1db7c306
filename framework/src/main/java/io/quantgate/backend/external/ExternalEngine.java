package io.quantgate.backend.external;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantgate.backend.BackendException;
import io.quantgate.external.LineProcess;

import java.time.Duration;
import java.util.List;

/**
 * One running external engine and the client side of the JSON-lines protocol (docs/backends.md): one request
 * object per line on its stdin, one reply object per line on its stdout, its stderr kept (the last lines) for
 * error messages. Every wait is bounded: an engine that does not answer in time is killed and the request fails
 * with a {@link BackendException}; so does one that exits, answers with something that is not a JSON object or
 * answers {@code "ok": false}. Never hangs.
 */
final class ExternalEngine implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    private final LineProcess process;

    ExternalEngine(List<String> command) {
        this.process = new LineProcess(command, "external engine", BackendException::new);
    }

    /**
     * Sends {@code request} and waits at most {@code timeout} for its reply.
     *
     * @return the reply object, whose {@code ok} is true
     * @throws BackendException when the engine errs, exits, times out or answers something else than a JSON object
     */
    JsonNode request(ObjectNode request, Duration timeout) {
        String op = request.path("op").asText("?");
        String line;
        try {
            line = process.request(JSON.writeValueAsString(request), op, timeout);
        } catch (JsonProcessingException e) {
            throw new BackendException("cannot serialize the request '" + op + "': " + e.getOriginalMessage(), e);
        }
        JsonNode reply;
        try {
            reply = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            reply = null;
        }
        if (reply == null || !reply.isObject()) {
            process.kill();
            throw new BackendException("external engine " + this + " answered '" + op + "' with a line that is not a "
                    + "JSON object: " + LineProcess.abbreviate(line) + process.stderr());
        }
        if (!reply.path("ok").isBoolean()) {
            process.kill();
            throw new BackendException("external engine " + this + " answered '" + op + "' without a boolean \"ok\": "
                    + LineProcess.abbreviate(line));
        }
        if (!reply.get("ok").asBoolean()) {
            throw new BackendException("external engine " + this + " failed '" + op + "': "
                    + reply.path("error").asText("(no \"error\" given)"));
        }
        return reply;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Asks the engine to close (bounded wait), then makes sure it is gone. */
    @Override
    public void close() {
        process.close("{\"op\":\"close\"}");
    }

    @Override
    public String toString() {
        return process.toString();
    }
}
