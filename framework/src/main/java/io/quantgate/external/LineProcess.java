package io.quantgate.external;

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
import java.util.function.Function;

/**
 * A program QuantGate talks to one line at a time over its stdin and stdout (an external engine, an external kernel):
 * every request waits a bounded time for its reply line, and a program that crashes, exits, stops answering or
 * answers nonsense is a clear error — with its exit code and the last lines of its stderr — never a hang. A program
 * that failed is killed and refuses further requests.
 */
public final class LineProcess implements AutoCloseable {
    private static final String EOF = "\u0000eof";
    private static final int STDERR_LINES = 20;

    private final List<String> command;
    private final String what;
    private final Function<String, RuntimeException> errors;
    private final Process process;
    private final OutputStream stdin;
    private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private volatile boolean dead;

    /**
     * @param what   what the program is, for messages ({@code external engine}, {@code external kernel})
     * @param errors makes the exception every failure is thrown as
     */
    public LineProcess(List<String> command, String what, Function<String, RuntimeException> errors) {
        this.command = List.copyOf(command);
        this.what = what;
        this.errors = errors;
        try {
            this.process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            RuntimeException x = errors.apply("cannot start " + what + " " + this + ": " + e.getMessage());
            x.initCause(e);
            throw x;
        }
        this.stdin = process.getOutputStream();
        Thread.ofVirtual().name("line-process-stdout").start(() -> pump(process.getInputStream(), true));
        Thread.ofVirtual().name("line-process-stderr").start(() -> pump(process.getErrorStream(), false));
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
            // the program went away; the EOF marker below tells the waiting request
        } finally {
            if (isStdout) {
                replies.add(EOF);
            }
        }
    }

    /**
     * Sends one request line and waits at most {@code timeout} for one reply line.
     *
     * @param op the request's name, for messages
     * @throws RuntimeException (made by the error factory) when the program is gone, exits, or does not answer in time
     */
    public String request(String line, String op, Duration timeout) {
        if (dead) {
            throw errors.apply(what + " " + this + " is no longer running (an earlier request failed)");
        }
        try {
            stdin.write(line.getBytes(StandardCharsets.UTF_8));
            stdin.write('\n');
            stdin.flush();
        } catch (IOException e) {
            throw failure("could not be sent '" + op + "' (" + e.getMessage() + ")");
        }
        String reply;
        try {
            reply = replies.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
            throw errors.apply("interrupted while waiting for " + what + " " + this + " to answer '" + op + "'");
        }
        if (reply == null) {
            kill();
            throw errors.apply(what + " " + this + " did not answer '" + op + "' within " + timeout.toMillis() / 1000.0
                    + " s; it was killed" + stderr());
        }
        if (reply.equals(EOF)) {
            throw failure("exited while answering '" + op + "'");
        }
        return reply;
    }

    /** A failed exchange: the program is killed; the message has its exit code (when it exited) and stderr tail. */
    public RuntimeException failure(String problem) {
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
        return errors.apply(what + " " + this + " " + problem + (code != null ? " with exit code " + code : "")
                + stderr());
    }

    /** {@code ; its last stderr lines: ...}, or empty. */
    public String stderr() {
        synchronized (stderrTail) {
            return stderrTail.isEmpty() ? "" : "; its last stderr lines:\n  " + String.join("\n  ", stderrTail);
        }
    }

    /** A reply line shortened for a message. */
    public static String abbreviate(String s) {
        return s.length() <= 200 ? "'" + s + "'" : "'" + s.substring(0, 200) + "…' (" + s.length() + " chars)";
    }

    public void kill() {
        dead = true;
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    public boolean isAlive() {
        return !dead && process.isAlive();
    }

    /** Sends {@code closeLine} (bounded wait), then makes sure the program is gone. */
    public void close(String closeLine) {
        if (isAlive()) {
            try {
                request(closeLine, "close", Duration.ofSeconds(5));
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (RuntimeException e) {
                // it is killed below either way
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        kill();
    }

    @Override
    public void close() {
        kill();
    }

    @Override
    public String toString() {
        return "'" + String.join(" ", command) + "'";
    }
}
