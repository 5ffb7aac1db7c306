package io.quantgate.harness;

import io.quantgate.backend.BackendModel;
import io.quantgate.kernels.nativeimpl.NativeCallTrace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where a decode run's time goes: one tg run (the harness's tokens, from an empty cache) with the native library's
 * call timeline on ({@link NativeCallTrace}), its calls summed by what they were — each GEMV shape apart, attention,
 * the KV stores, norms, RoPE, SwiGLU — and the time between them (the engine's own code, outside the library). Not a
 * timing to gate on (one run, tracing on): the split of one, next to the harness's measured rate.
 *
 * @param tokens    decode steps run
 * @param seconds   the run's wall time
 * @param rows      one row per kind of call, the largest first, then the time between calls
 * @param complete  false when the trace's capacity ran out (the rows then cover the first calls only)
 */
public record DecodeBreakdown(int tokens, double seconds, List<Row> rows, boolean complete) {

    /** {@code calls} per token, {@code micros} per token, {@code share} of the run's wall time. */
    public record Row(String what, double calls, double micros, double share) {
    }

    /** Runs {@code tokens} decode steps on {@code model} (reset first) with the trace on. */
    public static DecodeBreakdown measure(BackendModel model, int tokens, int vocab) {
        return measure(model, 0, tokens, vocab);
    }

    /** The same after a prompt of {@code depth} tokens (untimed, untraced), as a decode at that depth runs. */
    public static DecodeBreakdown measure(BackendModel model, int depth, int tokens, int vocab) {
        int[] gen = new SplittableRandom(ThroughputRun.DECODE_SEED).ints(tokens, 0, vocab).toArray();
        model.reset();
        if (depth > 0) {
            model.prefill(new SplittableRandom(ThroughputRun.PROMPT_SEED).ints(depth, 0, vocab).toArray());
        }
        // ~11 calls a layer and token; the native trace keeps at most 2^26
        NativeCallTrace.start((int) Math.min(1L << 26, Math.max(1024L, tokens * 2048L)));
        long t0 = System.nanoTime(), wall;
        NativeCallTrace.Trace trace;
        try {
            model.decodeAfter(depth, gen);
        } finally {
            wall = System.nanoTime() - t0; // before the trace is copied out: that is not the run's time
            trace = NativeCallTrace.stop();
        }
        return of(trace, tokens, wall);
    }

    static DecodeBreakdown of(NativeCallTrace.Trace trace, int tokens, long wallNanos) {
        Map<String, long[]> byWhat = new LinkedHashMap<>(); // what -> {calls, nanos}
        long inCalls = 0;
        for (NativeCallTrace.Call c : trace.calls()) {
            long[] t = byWhat.computeIfAbsent(label(c), k -> new long[2]);
            t[0]++;
            t[1] += c.nanos();
            inCalls += c.nanos();
        }
        List<Row> rows = new ArrayList<>();
        byWhat.forEach((what, t) -> rows.add(row(what, t[0], t[1], tokens, wallNanos)));
        rows.sort((a, b) -> Double.compare(b.micros(), a.micros()));
        rows.add(row("between native calls (the engine's own code)", 0, Math.max(0, wallNanos - inCalls), tokens,
                wallNanos));
        return new DecodeBreakdown(tokens, wallNanos / 1e9, List.copyOf(rows), trace.complete());
    }

    private static Row row(String what, long calls, long nanos, int tokens, long wallNanos) {
        return new Row(what, calls / (double) tokens, nanos / 1e3 / tokens, nanos / (double) wallNanos);
    }

    /** A GEMV (one activation row) by its weight shape, so each linear of a layer is its own row. */
    private static String label(NativeCallTrace.Call c) {
        return switch (c.kind()) {
            case GEMM -> c.m() == 1 ? "GEMV " + c.n() + "x" + c.k() : "GEMM M=" + c.m() + " " + c.n() + "x" + c.k();
            case ATTENTION -> "attention";
            case KV_STORE -> "KV cache store";
            case RMSNORM -> "residual + RMSNorm";
            case ROPE -> "RoPE";
            case SWIGLU -> "SwiGLU";
            case SOFTMAX -> "softmax";
            case STREAM -> "bandwidth probe read";
        };
    }

    /** Tokens per second of the traced run. */
    public double rate() {
        return tokens / seconds;
    }

    /** A Markdown table of the rows under a heading line naming {@code subject}. */
    public String table(String subject) {
        return table(subject, "tg" + tokens);
    }

    /** The same, the heading naming the workload as its label does ({@code tg64@d1536} for a decode at depth). */
    public String table(String subject, String workload) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s: %s traced once, %.2f tokens/s with the trace on%s%n%n", subject,
                workload, rate(), complete ? "" : " (trace full: the rows cover its first calls only)"));
        s.append("| what | calls/token | µs/token | share |\n|---|---:|---:|---:|\n");
        for (Row r : rows) {
            s.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %.1f %% |%n", r.what(),
                    r.calls() == 0 ? "" : String.format(Locale.ROOT, "%.0f", r.calls()), r.micros(), 100 * r.share()));
        }
        return s.toString();
    }
}
