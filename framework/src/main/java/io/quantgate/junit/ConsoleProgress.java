package io.quantgate.junit;

import io.quantgate.evaluation.Progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Progress lines for long measurements on standard output (which Maven Surefire and IDEs show), prefixed
 * {@code [quantgate]}; at most one line per 5 s of a running measurement. Off with
 * {@code quantgate.progress=false}.
 */
final class ConsoleProgress {
    private static final long INTERVAL_NANOS = 5_000_000_000L;
    private final boolean on;
    private final String prefix;
    private final PrintStream out = System.out;

    ConsoleProgress(boolean on, String what) {
        this.on = on;
        this.prefix = "[quantgate] " + what + ": ";
    }

    void line(String s) {
        if (on) {
            out.println(prefix + s);
        }
    }

    /** A perplexity progress consumer that prints at most every 5 s. */
    Consumer<Progress> perplexity() {
        if (!on) {
            return null;
        }
        long[] last = {System.nanoTime()};
        return p -> {
            long now = System.nanoTime();
            if (now - last[0] >= INTERVAL_NANOS) {
                last[0] = now;
                line(String.format(Locale.ROOT, "chunk %d/%d, ppl %.4f vs base %.4f, KLD %.5f, %.0f s", p.chunk(),
                        p.chunks(), p.runningPpl(), p.runningBasePpl(), p.runningKld(), p.elapsedSeconds()));
            }
        };
    }

    /** A consumer for the throughput sampler's own (already throttled) lines. */
    Consumer<String> throughput(String row) {
        return on ? s -> line(row + " " + s) : null;
    }
}
