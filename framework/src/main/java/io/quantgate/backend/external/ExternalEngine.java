package io.quantgate.backend.external;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantgate.backend.BackendException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One running external engine and the client side of the JSON-lines protocol (docs/backends.md): one request
 * object per line on its stdin, one reply object per line on its stdout, its stderr kept (the last lines) for
 * error messages. Every wait is bounded: an engine that does not answer in time is killed and the request fails
 * with a {@link BackendException}; so does one that exits, answers with something that is not a JSON object or
 * answers {@code "ok": false}. Never hangs.
 */
final class ExternalEngine implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final String EOF = "\u0000eof";
    private static final int STDERR_LINES = 20;

    private final List<String> command;
    private final Process process;
    private final OutputStream stdin;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private boolean dead;

    ExternalEngine(List<String> command) {
        this.command = List.copyOf(command);
        try {
            this.process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            throw new BackendException("cannot start external engine " + this + ": " + e.getMessage(), e);
        }
        this.stdin = process.getOutputStream();
        Thread.ofVirtual().name("external-engine-stdout").start(() -> pump(process.getInputStream(), true));
        Thread.ofVirtual().name("external-engine-stderr").start(() -> pump(process.getErrorStream(), false));
    }

    private void pump(java.io.InputStream in, boolean isStdout) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (isStdout) {
                    replies.add(line);
                } else {
                    synchronized (stderrTail) {
                        stderrTail.addLast(line);
                        if (stderrTail.size() > STDERR_LINES) {
                            stderrTail.removeFirst();
                        }
                    }
                }
            }
        } catch (IOException e) {
            // the engine went away; the EOF marker below tells the waiting request
        } finally {
            if (isStdout) {
                replies.add(EOF);
            }
        }
    }

    /**
     * Sends {@code request} and waits at most {@code timeout} for its reply.
     *
     * @return the reply object, whose {@code ok} is true
     * @throws BackendException when the engine errs, exits, times out or answers something else than a JSON object
     */
    JsonNode request(ObjectNode request, Duration timeout) {
        String op = request.path("op").asText("?");
        if (dead) {
            throw new BackendException("external engine " + this + " is no longer running (an earlier request failed)");
        }
        try {
            stdin.write(JSON.writeValueAsBytes(request));
            stdin.write('\n');
            stdin.flush();
        } catch (IOException e) {
            throw failure("could not be sent '" + op + "' (" + e.getMessage() + ")");
        }
        String line;
        try {
            line = replies.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
            throw new BackendException("interrupted while waiting for external engine " + this + " to answer '" + op + "'");
        }
        if (line == null) {
            kill();
            throw new BackendException("external engine " + this + " did not answer '" + op + "' within "
                    + timeout.toMillis() / 1000.0 + " s; it was killed" + stderr());
        }
        if (line.equals(EOF)) {
            throw failure("exited while answering '" + op + "'");
        }
        JsonNode reply;
        try {
            reply = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            reply = null;
        }
        if (reply == null || !reply.isObject()) {
            kill();
            throw new BackendException("external engine " + this + " answered '" + op + "' with a line that is not a "
                    + "JSON object: " + abbreviate(line) + stderr());
        }
        if (!reply.path("ok").isBoolean()) {
            kill();
            throw new BackendException("external engine " + this + " answered '" + op + "' without a boolean \"ok\": "
                    + abbreviate(line));
        }
        if (!reply.get("ok").asBoolean()) {
            throw new BackendException("external engine " + this + " failed '" + op + "': "
                    + reply.path("error").asText("(no \"error\" given)"));
        }
        return reply;
    }

    private BackendException failure(String what) {
        dead = true;
        Integer code = null;
        try {
            if (process.waitFor(2, TimeUnit.SECONDS)) {
                code = process.exitValue();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        kill();
        return new BackendException("external engine " + this + " " + what
                + (code != null ? " with exit code " + code : "") + stderr());
    }

    private String stderr() {
        synchronized (stderrTail) {
            return stderrTail.isEmpty() ? "" : "; its last stderr lines:\n  " + String.join("\n  ", stderrTail);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? "'" + s + "'" : "'" + s.substring(0, 200) + "…' (" + s.length() + " chars)";
    }

    private void kill() {
        dead = true;
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    boolean isAlive() {
        return !dead && process.isAlive();
    }

    /** Asks the engine to close (bounded wait), then makes sure it is gone. */
    @Override
    public void close() {
        if (isAlive()) {
            try {
                request(JSON.createObjectNode().put("op", "close"), Duration.ofSeconds(5));
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (BackendException e) {
                // it is killed below either way
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        kill();
    }

    @Override
    public String toString() {
        return "'" + String.join(" ", command) + "'";
    }
}
