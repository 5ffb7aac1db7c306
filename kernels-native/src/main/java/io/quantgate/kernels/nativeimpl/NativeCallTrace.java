package io.quantgate.kernels.nativeimpl;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The native library's call timeline ({@code qg_trace_start} / {@code qg_trace_stop}): between {@link #start} and
 * {@link #stop} every compute call (GEMM, attention, KV store, norm, RoPE, SwiGLU, softmax, the bandwidth probe's
 * read) records when it began and ended and its sizes, so a model step's time can be split by what ran and what ran
 * between the calls. Neither method may run while another thread is inside a native call.
 */
public final class NativeCallTrace {

    /** What a call was ({@code QG_CALL_*}). */
    public enum Kind {
        GEMM, ATTENTION, KV_STORE, RMSNORM, ROPE, SWIGLU, SOFTMAX, STREAM;

        static Kind of(int code) {
            if (code < 1 || code > values().length) {
                throw new IllegalStateException("native trace record of unknown kind " + code);
            }
            return values()[code - 1];
        }
    }

    /**
     * One traced call: its start and end ({@code System.nanoTime}'s clock on Linux: CLOCK_MONOTONIC) and three sizes —
     * GEMM m, n, k; ATTENTION t, heads, the first query's position; KV_STORE rows, kv heads, head size; RMSNORM rows,
     * dim; ROPE rows, heads, head size; SWIGLU rows, width; SOFTMAX rows, first row's length; STREAM 1, MiB.
     */
    public record Call(long startNanos, long endNanos, Kind kind, int m, int n, int k) {
        public long nanos() {
            return endNanos - startNanos;
        }
    }

    /** The calls kept (in the order they ended) and how many were traced: more than kept when the capacity ran out. */
    public record Trace(List<Call> calls, long traced) {
        public boolean complete() {
            return traced == calls.size();
        }
    }

    private static final MemoryLayout RECORD = MemoryLayout.structLayout(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle START;
    private static final MethodHandle STOP;
    private static int capacity;

    static {
        Linker linker = Linker.nativeLinker();
        START = linker.downcallHandle(NativeKernels.find(NativeKernels.LIBRARY, "qg_trace_start"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        STOP = linker.downcallHandle(NativeKernels.find(NativeKernels.LIBRARY, "qg_trace_stop"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    }

    private NativeCallTrace() {}

    /** Starts a trace that keeps up to {@code capacity} calls (1 .. 2^26), discarding any earlier one. */
    public static synchronized void start(int capacity) {
        if (capacity < 1 || capacity > (1 << 26)) {
            throw new IllegalArgumentException("a native call trace keeps 1 .. 2^26 calls, asked for " + capacity);
        }
        int rc;
        try {
            rc = (int) START.invokeExact((long) capacity);
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
        if (rc != 0) {
            throw new IllegalStateException("native qg_trace_start(" + capacity + ") failed with code " + rc
                    + " (no memory for the trace?)");
        }
        NativeCallTrace.capacity = capacity;
    }

    /** Stops tracing and returns the calls recorded since {@link #start}. */
    public static synchronized Trace stop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(RECORD, Math.max(1, capacity));
            long traced = (long) STOP.invokeExact(out, (long) capacity);
            int kept = (int) Math.min(traced, capacity);
            List<Call> calls = new ArrayList<>(kept);
            for (int i = 0; i < kept; i++) {
                long base = i * RECORD.byteSize();
                calls.add(new Call(out.get(ValueLayout.JAVA_LONG, base), out.get(ValueLayout.JAVA_LONG, base + 8),
                        Kind.of(out.get(ValueLayout.JAVA_INT, base + 16)), out.get(ValueLayout.JAVA_INT, base + 20),
                        out.get(ValueLayout.JAVA_INT, base + 24), out.get(ValueLayout.JAVA_INT, base + 28)));
            }
            return new Trace(List.copyOf(calls), traced);
        } catch (Throwable t) {
            throw NativeKernels.rethrow(t);
        }
    }
}
