package io.quantgate.kernels.nativeimpl;

import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

/**
 * Java entry to the native kernels. Every size, bound and pointer is checked here before the
 * downcall, so a wrong call is an exception and never a crash: the C side re-checks and returns an
 * error code as a second line of defence.
 *
 * <p>{@code y[m][n] = sum_k x[m][k] * W[n][k]}; x is {@code m} rows of {@code ldx} floats, y is
 * {@code m} rows of {@code ldy} floats. Calls are serialized inside the library (one thread pool), except the calls of
 * a thread that holds a {@link Lane}.
 *
 * <p>System properties read once: {@code quantgate.isa} (scalar, avx2, avx512, avx512bf16, neon) and
 * {@code quantgate.threads} (0 = all cores).
 */
public final class NativeKernels {
    private static final int QG_OK = 0;
    private static final int QG_ENOMEM = -2;
    /** Below this much work a call uses a critical downcall (no thread-state transition). */
    private static final long CRITICAL_WORK = 1L << 21;

    private static final MethodHandle GEMM;
    private static final MethodHandle GEMM_CRITICAL;
    private static final MethodHandle ISA_SUPPORTED;
    private static final MethodHandle SET_ISA;
    private static final MethodHandle GET_ISA;
    private static final MethodHandle SET_THREADS;
    private static final MethodHandle GET_THREADS;
    private static final MethodHandle SET_READ_AHEAD;
    private static final MethodHandle STREAM_READ;
    private static final MethodHandle SOFTMAX_CAUSAL;
    private static final MethodHandle ATTENTION;
    private static final MethodHandle SWIGLU;
    private static final MethodHandle ADD_RMSNORM;
    private static final MethodHandle ROPE;
    private static final MethodHandle KV_STORE;
    private static final MethodHandle PANELS_BYTES;
    private static final MethodHandle NT_BYTES;
    private static final MethodHandle PACK_NT;
    private static final MethodHandle GEMM_NT;
    private static final MethodHandle GEMM_NT_CRITICAL;
    private static final MethodHandle PACK_PANELS;
    private static final MethodHandle GEMM_PANELS_CRITICAL;
    private static final MethodHandle GEMM_PANELS;
    private static final MethodHandle PAGES_ALLOC;
    private static final MethodHandle PAGES_FREE;
    private static final MethodHandle LANE_BEGIN;
    private static final MethodHandle LANE_END;
    private static final MethodHandle SUM_EXP;
    private static final MethodHandle MAX;

    /** The loaded library: one copy per process, which {@link NativeCallTrace} looks its functions up in too. */
    static final SymbolLookup LIBRARY;

    static {
        SymbolLookup lib = NativeLibrary.load();
        LIBRARY = lib;
        Linker linker = Linker.nativeLinker();
        ValueLayout.OfInt i = ValueLayout.JAVA_INT;
        ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
        var p = ValueLayout.ADDRESS;
        FunctionDescriptor gemm = FunctionDescriptor.of(i, i, i, i, i, i, p, p, p, i, p, l, p, l);
        GEMM = linker.downcallHandle(find(lib, "qg_gemm"), gemm);
        GEMM_CRITICAL = linker.downcallHandle(find(lib, "qg_gemm"), gemm, Linker.Option.critical(false));
        ISA_SUPPORTED = linker.downcallHandle(find(lib, "qg_isa_supported"), FunctionDescriptor.of(i, i));
        SET_ISA = linker.downcallHandle(find(lib, "qg_set_isa"), FunctionDescriptor.of(i, i));
        GET_ISA = linker.downcallHandle(find(lib, "qg_get_isa"), FunctionDescriptor.of(i));
        SET_THREADS = linker.downcallHandle(find(lib, "qg_set_threads"), FunctionDescriptor.of(i, i));
        GET_THREADS = linker.downcallHandle(find(lib, "qg_get_threads"), FunctionDescriptor.of(i));
        SET_READ_AHEAD = linker.downcallHandle(find(lib, "qg_set_read_ahead"), FunctionDescriptor.of(i, l));
        STREAM_READ = linker.downcallHandle(find(lib, "qg_stream_read"), FunctionDescriptor.of(l, p, l));
        SOFTMAX_CAUSAL = linker.downcallHandle(find(lib, "qg_softmax_causal"),
                FunctionDescriptor.of(i, p, i, l, i, ValueLayout.JAVA_FLOAT));
        ATTENTION = linker.downcallHandle(find(lib, "qg_attention"),
                FunctionDescriptor.of(i, i, i, i, i, i, p, l, p, p, l, l, ValueLayout.JAVA_FLOAT, p, l));
        SWIGLU = linker.downcallHandle(find(lib, "qg_swiglu"), FunctionDescriptor.of(i, p, p, l, l, l));
        ADD_RMSNORM = linker.downcallHandle(find(lib, "qg_add_rmsnorm"),
                FunctionDescriptor.of(i, p, l, p, l, p, l, p, l, l, ValueLayout.JAVA_FLOAT));
        ROPE = linker.downcallHandle(find(lib, "qg_rope"), FunctionDescriptor.of(i, p, l, l, i, i, i, p, p, l, i));
        PANELS_BYTES = linker.downcallHandle(find(lib, "qg_panels_bytes"), FunctionDescriptor.of(l, i, i, i, i));
        PACK_PANELS = linker.downcallHandle(find(lib, "qg_pack_panels"), FunctionDescriptor.of(i, i, i, i, i, p, p, p, p, l));
        NT_BYTES = linker.downcallHandle(find(lib, "qg_nt_bytes"), FunctionDescriptor.of(l, i, i, i, i));
        PACK_NT = linker.downcallHandle(find(lib, "qg_pack_nt"), FunctionDescriptor.of(i, i, i, i, i, p, p, p, p, l));
        FunctionDescriptor gemmNt = FunctionDescriptor.of(i, i, i, i, i, i, p, p, p, p, l, i, p, l, p, l);
        GEMM_NT = linker.downcallHandle(find(lib, "qg_gemm_nt"), gemmNt);
        GEMM_NT_CRITICAL = linker.downcallHandle(find(lib, "qg_gemm_nt"), gemmNt, Linker.Option.critical(false));
        FunctionDescriptor gemmPanels = FunctionDescriptor.of(i, i, i, i, i, i, p, p, p, p, l, i, p, l, p, l);
        GEMM_PANELS = linker.downcallHandle(find(lib, "qg_gemm_panels"), gemmPanels);
        GEMM_PANELS_CRITICAL = linker.downcallHandle(find(lib, "qg_gemm_panels"), gemmPanels,
                Linker.Option.critical(false));
        KV_STORE = linker.downcallHandle(find(lib, "qg_kv_store"), FunctionDescriptor.of(i, p, l, l, i, i, p, l, l, i));
        PAGES_ALLOC = linker.downcallHandle(find(lib, "qg_pages_alloc"), FunctionDescriptor.of(p, l));
        PAGES_FREE = linker.downcallHandle(find(lib, "qg_pages_free"), FunctionDescriptor.of(i, p, l));
        LANE_BEGIN = linker.downcallHandle(find(lib, "qg_lane_begin"), FunctionDescriptor.of(i));
        LANE_END = linker.downcallHandle(find(lib, "qg_lane_end"), FunctionDescriptor.of(i));
        // critical with heap access: the rows may be Java arrays (a backend's logits), and a row takes microseconds
        SUM_EXP = linker.downcallHandle(find(lib, "qg_sum_exp"),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, p, l, ValueLayout.JAVA_DOUBLE, p),
                Linker.Option.critical(true));
        MAX = linker.downcallHandle(find(lib, "qg_max"), FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, p, l),
                Linker.Option.critical(true));
        String isa = System.getProperty("quantgate.isa");
        if (isa != null && !isa.isBlank()) {
            setIsa(Isa.fromId(isa));
        }
        String threads = System.getProperty("quantgate.threads");
        if (threads != null && !threads.isBlank()) {
            try {
                setThreads(Integer.parseInt(threads.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("quantgate.threads must be an integer, got '" + threads + "'", e);
            }
        }
        String readAhead = System.getProperty("quantgate.readAheadKiB");
        if (readAhead != null && !readAhead.isBlank()) {
            try {
                setReadAhead(Long.parseLong(readAhead.trim()) * 1024);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("quantgate.readAheadKiB must be an integer, got '" + readAhead + "'",
                        e);
            }
        }
    }

    private NativeKernels() {}

    static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("libquantgate.so lacks symbol " + name));
    }

    /**
     * A zero-filled, 2 MiB-aligned mapping of {@code bytes} advised to transparent huge pages ({@code qg_pages_alloc}),
     * as a zero-length segment, or {@link MemorySegment#NULL} if the system refused it. Only {@link WeightArena} calls
     * this; it frees the mapping with {@link #freePages}.
     */
    static MemorySegment allocatePages(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("a mapping of " + bytes + " bytes");
        }
        try {
            return (MemorySegment) PAGES_ALLOC.invokeExact(bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void freePages(MemorySegment mapping, long bytes) {
        try {
            int rc = (int) PAGES_FREE.invokeExact(mapping, bytes);
            if (rc != QG_OK) {
                throw new IllegalStateException("native qg_pages_free refused a mapping of " + bytes + " bytes at 0x"
                        + Long.toHexString(mapping.address()));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Forces class initialization (library load); throws with the reason if it cannot be loaded. */
    public static void ensureLoaded() {}

    public static boolean isSupported(Isa isa) {
        try {
            return (int) ISA_SUPPORTED.invokeExact(isa.ordinal()) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void setIsa(Isa isa) {
        try {
            int rc = (int) SET_ISA.invokeExact(isa.ordinal());
            if (rc != QG_OK) {
                throw new UnsupportedOperationException("this CPU does not support the " + isa.id() + " kernels");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static Isa isa() {
        try {
            return Isa.values()[(int) GET_ISA.invokeExact()];
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sets the pool size; 0 means all online cores. Returns the size in effect. */
    public static int setThreads(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
        }
        try {
            return (int) SET_THREADS.invokeExact(threads);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * How many bytes of its share of the next GEMV's panels each pool thread reads into its cache between decode calls
     * ({@code qg_set_read_ahead}: an M = 1 call on panels learns which panels follow it; the results do not change);
     * 0 turns it off. The default is 768 KiB; the system property {@code quantgate.readAheadKiB} sets it at load.
     */
    public static void setReadAhead(long bytes) {
        if (bytes < 0 || bytes > (1L << 30)) {
            throw new IllegalArgumentException("read-ahead must be 0 .. 2^30 bytes, got " + bytes);
        }
        try {
            int rc = (int) SET_READ_AHEAD.invokeExact(bytes);
            if (rc != 0) {
                throw new IllegalStateException("qg_set_read_ahead(" + bytes + ") returned " + rc);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int threads() {
        try {
            return (int) GET_THREADS.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Makes the calling thread a lane until the returned lane is closed, on this thread: its native calls then run on
     * it alone, with a workspace of their own and without the library's lock ({@code qg_lane_begin}), so that threads
     * holding a lane each run independent work side by side (perplexity: one chunk per thread), while other threads'
     * calls still go through the pool. Results are the pool's bits (its tasks split output rows, never a sum). A lane
     * keeps the tier in use when it opened ({@link #setIsa} applies to lanes opened later); {@link #threads()} still
     * answers the pool's size. Lanes nest: a thread that holds one (a comparison opens a
     * sequence of each of its two models on one thread) gets another handle to it, and stays a lane until its last
     * handle is closed.
     *
     * @throws IllegalStateException on a virtual thread (it may move to another carrier thread between two calls, and a
     *                               lane belongs to an OS thread)
     */
    public static Lane openLane() {
        Thread self = Thread.currentThread();
        if (self.isVirtual()) {
            throw new IllegalStateException("a native lane needs a platform thread: " + self
                    + " is virtual and may run its next native call on another carrier thread");
        }
        int[] depth = LANE_DEPTH.get();
        if (depth[0] == 0) {
            int rc;
            try {
                rc = (int) LANE_BEGIN.invokeExact();
            } catch (Throwable t) {
                throw rethrow(t);
            }
            if (rc != QG_OK) {
                throw new IllegalStateException(rc == QG_ENOMEM ? "no memory for a native lane"
                        : "thread '" + self.getName() + "' is a native lane already, opened outside NativeKernels");
            }
        }
        depth[0]++;
        return new Lane(self, depth);
    }

    /** Handles this thread holds on its lane ({@link #openLane()}: 0 when it is none). */
    private static final ThreadLocal<int[]> LANE_DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    /** A handle on this thread's lane ({@link #openLane()}); close it on the thread that opened it. */
    public static final class Lane implements AutoCloseable {
        private final Thread owner;
        private final int[] depth;
        private boolean closed;

        private Lane(Thread owner, int[] depth) {
            this.owner = owner;
            this.depth = depth;
        }

        /**
         * Gives the handle back; with the thread's last one its workspace is freed and its later calls go through the
         * pool again. Idempotent.
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            if (Thread.currentThread() != owner) {
                throw new IllegalStateException("a native lane is closed by the thread that opened it ('"
                        + owner.getName() + "'), not by '" + Thread.currentThread().getName() + "'");
            }
            closed = true;
            if (--depth[0] > 0) {
                return;
            }
            int rc;
            try {
                rc = (int) LANE_END.invokeExact();
            } catch (Throwable t) {
                throw rethrow(t);
            }
            if (rc != QG_OK) {
                throw new IllegalStateException("native qg_lane_end: thread '" + owner.getName() + "' held no lane");
            }
        }
    }

    /**
     * {@code Σ exp((double) x[i] - shift)} over the {@code n} floats of {@code x} from float {@code first}, in double
     * ({@code qg_sum_exp}): each term within 2 ulp of the exact value (a vectorized {@code exp} on the AVX-512 tiers,
     * libm's elsewhere), written to {@code exps[i]} when {@code exps} is not null; NaN when a value is NaN. Perplexity's
     * log-sum-exp with {@code shift} = the row's largest logit: ~25× faster than {@code Math.exp} per logit. {@code x} may
     * be native or a heap segment over a {@code float[]}; any thread, no lock.
     */
    public static double sumExp(MemorySegment x, long first, int n, double shift, double[] exps) {
        Objects.requireNonNull(x, "x");
        if (n < 1 || first < 0 || (first + n) * 4L > x.byteSize()) {
            throw new IllegalArgumentException("sumExp of " + n + " floats from float " + first + " of a segment of "
                    + x.byteSize() + " bytes");
        }
        if (!Double.isFinite(shift)) {
            throw new IllegalArgumentException("sumExp shift must be finite, got " + shift);
        }
        if (exps != null && exps.length < n) {
            throw new IllegalArgumentException("sumExp: " + exps.length + " doubles for " + n + " terms");
        }
        try {
            MemorySegment terms = exps == null ? MemorySegment.NULL : MemorySegment.ofArray(exps);
            return (double) SUM_EXP.invokeExact(x.asSlice(4L * first), (long) n, shift, terms);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The largest of the {@code n} floats of {@code x} from float {@code first}, NaNs skipped ({@code -∞} when every
     * value is NaN or {@code -∞}); {@code qg_max}. Native or heap segments; any thread, no lock.
     */
    public static float max(MemorySegment x, long first, int n) {
        Objects.requireNonNull(x, "x");
        if (n < 1 || first < 0 || (first + n) * 4L > x.byteSize()) {
            throw new IllegalArgumentException("max of " + n + " floats from float " + first + " of a segment of "
                    + x.byteSize() + " bytes");
        }
        try {
            return (float) MAX.invokeExact(x.asSlice(4L * first), (long) n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** y = x · Wᵀ with x and y packed ({@code ldx = K}, {@code ldy = N}). */
    public static void gemm(QuantizedMatrix w, ActivationMode act, MemorySegment x, int m, MemorySegment y) {
        gemm(w, act, x, m, w.cols(), y, w.rows());
    }

    public static void gemm(QuantizedMatrix w, ActivationMode act, MemorySegment x, int m, long ldx,
                            MemorySegment y, long ldy) {
        gemm(w, act, x, m, ldx, y, ldy, (PackedPanels) null);
    }

    /** The start of an error message for a native call's return code: out of memory, or its arguments refused. */
    private static String failure(String function, int rc) {
        return rc == QG_ENOMEM ? "native " + function + " ran out of memory (its workspace) for " : "native " + function + " rejected ";
    }

    /** Bytes of {@code w}'s prepacked 16-row panels ({@link #packPanels}); 0 for a dense format. */
    public static long panelsBytes(QuantizedMatrix w) {
        if (!w.format().isQuantized()) {
            return 0;
        }
        try {
            return (long) PANELS_BYTES.invokeExact(w.format().nativeCode(), w.rows(), w.cols(), w.groupSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code w} as the 16-row panels that int8-activation GEMMs read on the AVX-512 tiers (words of 16 rows
     * transposed, each pair of groups' fp16 scales just before their words: one forward stream), allocated in
     * {@code arena}: packed once, they spare every batched call ({@code m > 4}) the transposition, with bit-identical
     * results, and serve decode ({@code m ≤ 4}) with the panel kernel, which reads them from DRAM faster than the row
     * kernels read the row-major codes (its results: within the same error bound, another summation order). Pass them to {@link #gemm(QuantizedMatrix, ActivationMode, MemorySegment, int, long, MemorySegment, long,
     * PackedPanels)} with this same {@code w}.
     *
     * @throws IllegalArgumentException for a dense format
     */
    public static PackedPanels packPanels(QuantizedMatrix w, Arena arena) {
        Objects.requireNonNull(w, "weights");
        if (!w.format().isQuantized()) {
            throw new IllegalArgumentException("prepacked panels need a quantized format, not " + w.format().id());
        }
        checkWeights(w);
        long bytes = panelsBytes(w);
        MemorySegment panels = arena.allocate(bytes, 64);
        MemorySegment zeros = zerosOf(w);
        try {
            int rc = (int) PACK_PANELS.invokeExact(w.format().nativeCode(), w.rows(), w.cols(), w.groupSize(), w.codes(),
                    w.scales(), zeros, panels, bytes);
            if (rc != QG_OK) {
                throw new IllegalStateException("native qg_pack_panels rejected " + w + " (code " + rc + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return new PackedPanels(w, panels);
    }

    /**
     * Prepacked 16-row panels ({@link #packPanels}) and the matrix they were packed from: {@link #gemm(QuantizedMatrix,
     * ActivationMode, MemorySegment, int, long, MemorySegment, long, PackedPanels)} takes them only with that very
     * matrix, since panels of another one with the same sizes would pass every size check.
     */
    public record PackedPanels(QuantizedMatrix weights, MemorySegment segment) {
        public PackedPanels {
            Objects.requireNonNull(weights, "weights");
            Objects.requireNonNull(segment, "segment");
        }
    }

    /**
     * Bytes of {@code w}'s prepacked small-K panels ({@link #packSmallK}); 0 where no tier reads them (K over 512, no
     * AVX-512, over 64 MiB).
     */
    public static long smallKBytes(QuantizedMatrix w) {
        Objects.requireNonNull(w, "weights");
        int group = groupOf(w);
        try {
            return (long) NT_BYTES.invokeExact(w.format().nativeCode(), w.rows(), w.cols(), group);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Prepacked small-K panels ({@link #packSmallK}) and the matrix they were packed from: {@link #gemmSmallK} takes
     * them only with that very matrix, since panels of another one with the same sizes would pass every size check.
     */
    public record SmallKPanels(QuantizedMatrix weights, MemorySegment segment) {
        public SmallKPanels {
            Objects.requireNonNull(weights, "weights");
            Objects.requireNonNull(segment, "segment");
        }
    }

    /**
     * {@code w} dequantized to fp32 and transposed into the 64-row panels that fp32-activation GEMMs with small K
     * (stories-class models) and enough rows run on, on the AVX-512 tiers — which otherwise build them on every call.
     * Packed once by the per-call packing's own code, so {@link #gemmSmallK} gives {@link #gemm}'s bits. The memory is
     * K × 4 bytes per weight row (fp32). Null when {@link #smallKBytes} is 0.
     */
    public static SmallKPanels packSmallK(QuantizedMatrix w, Arena arena) {
        long bytes = smallKBytes(w);
        if (bytes == 0) {
            return null;
        }
        checkWeights(w);
        MemorySegment nt = arena.allocate(bytes, 64);
        MemorySegment scales = scalesOf(w);
        MemorySegment zeros = zerosOf(w);
        int group = groupOf(w);
        try {
            int rc = (int) PACK_NT.invokeExact(w.format().nativeCode(), w.rows(), w.cols(), group, w.codes(), scales,
                    zeros, nt, bytes);
            if (rc != QG_OK) {
                throw new IllegalStateException(failure("qg_pack_nt", rc) + w + " (code " + rc + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return new SmallKPanels(w, nt);
    }

    /**
     * {@link #gemm(QuantizedMatrix, ActivationMode, MemorySegment, int, long, MemorySegment, long)} with fp32
     * activations that reads {@code panels} ({@link #packSmallK} of this same {@code w}) where the small-K path
     * applies: the same bits, without dequantizing the weights again.
     */
    public static void gemmSmallK(QuantizedMatrix w, MemorySegment x, int m, long ldx, MemorySegment y, long ldy,
                                  SmallKPanels panels) {
        Objects.requireNonNull(panels, "prepacked small-K panels");
        checkCall(w, x, m, ldx, y, ldy);
        requirePackedFrom(panels.weights(), w, "prepacked small-K panels");
        MemorySegment nt = panels.segment();
        requireNative(nt, "prepacked small-K panels");
        int n = w.rows();
        int k = w.cols();
        long ntBytes = smallKBytes(w);
        if (ntBytes == 0 || nt.byteSize() != ntBytes || nt.address() % 64 != 0) {
            throw new IllegalArgumentException("prepacked small-K panels of " + nt.byteSize() + " bytes are not "
                    + "packSmallK of " + w + " (" + ntBytes + " bytes, 64-byte aligned)");
        }
        WeightFormat fmt = w.format();
        int group = groupOf(w);
        try {
            MemorySegment scales = scalesOf(w);
            MemorySegment zeros = zerosOf(w);
            MethodHandle h = (long) m * n * k < CRITICAL_WORK ? GEMM_NT_CRITICAL : GEMM_NT;
            int rc = (int) h.invokeExact(fmt.nativeCode(), ActivationMode.FP32.nativeCode(), n, k, group,
                    w.codes(), scales, zeros, nt, ntBytes, m, x, ldx, y, ldy);
            if (rc != QG_OK) {
                throw new IllegalStateException(failure("qg_gemm_nt", rc) + w + " m=" + m + " (code " + rc + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@link #gemm(QuantizedMatrix, ActivationMode, MemorySegment, int, long, MemorySegment, long)} that reads
     * {@code packed} ({@link #packPanels} of this same {@code w}; null: none) for int8-activation calls on the
     * AVX-512 tiers (the others read the row-major codes).
     */
    public static void gemm(QuantizedMatrix w, ActivationMode act, MemorySegment x, int m, long ldx,
                            MemorySegment y, long ldy, PackedPanels packed) {
        Objects.requireNonNull(act, "activation mode");
        WeightFormat fmt = w == null ? null : w.format();
        if (act == ActivationMode.INT8 && fmt != null && !fmt.isQuantized()) {
            throw new IllegalArgumentException("int8 activations need a quantized weight format, not " + fmt.id());
        }
        checkCall(w, x, m, ldx, y, ldy);
        int n = w.rows();
        int k = w.cols();
        int group = groupOf(w);
        long work = (long) m * n * k;
        long panelBytes = 0;
        if (packed != null) {
            requirePackedFrom(packed.weights(), w, "prepacked panels");
        }
        // every m reads the panels where given: decode (m = 1) too, since the panels became one forward stream with
        // their scales inline (2026-12-05: 0.86x the row GEMV's time for int4s-g32 over the 1B decode stream in the fast
        // memory phase, docs/kernels.md)
        MemorySegment panels = packed == null ? null : packed.segment();
        if (panels != null) {
            requireNative(panels, "prepacked panels");
            panelBytes = panelsBytes(w);
            if (panelBytes == 0 || panels.byteSize() != panelBytes || panels.address() % 64 != 0) {
                throw new IllegalArgumentException("prepacked panels of " + panels.byteSize() + " bytes are not "
                        + "packPanels of " + w + " (" + panelBytes + " bytes, 64-byte aligned)");
            }
        }
        try {
            MemorySegment scales = scalesOf(w);
            MemorySegment zeros = zerosOf(w);
            int rc;
            if (panels != null) {
                MethodHandle h = work < CRITICAL_WORK ? GEMM_PANELS_CRITICAL : GEMM_PANELS;
                rc = (int) h.invokeExact(fmt.nativeCode(), act.nativeCode(), n, k, group, w.codes(), scales, zeros,
                        panels, panelBytes, m, x, ldx, y, ldy);
            } else {
                MethodHandle h = work < CRITICAL_WORK ? GEMM_CRITICAL : GEMM;
                rc = (int) h.invokeExact(fmt.nativeCode(), act.nativeCode(), n, k, group, w.codes(), scales, zeros,
                        m, x, ldx, y, ldy);
            }
            if (rc != QG_OK) {
                throw new IllegalStateException(failure("qg_gemm", rc) + w + " m=" + m + " (code " + rc + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Convenience for tests and small work: copies x in and y out through a confined arena. */
    public static float[] gemm(QuantizedMatrix w, ActivationMode act, float[] x, int m) {
        if ((long) m * w.cols() != x.length) {
            throw new IllegalArgumentException("x has " + x.length + " values, expected m*K = " + m + "*" + w.cols());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocate((long) x.length * Float.BYTES, 64);
            MemorySegment.copy(x, 0, xs, ValueLayout.JAVA_FLOAT, 0, x.length);
            MemorySegment ys = arena.allocate((long) m * w.rows() * Float.BYTES, 64);
            gemm(w, act, xs, m, ys);
            return ys.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /**
     * Causal softmax of attention scores, in place: row {@code t < rows} of {@code att} (stride
     * {@code ld} floats) holds {@code firstLen + t} scores, which become {@code softmax(scale·score)};
     * the rest of each row up to {@code ld} becomes 0. Vectorized exp (relative error ~1e-7), rows
     * split over the kernel thread pool.
     */
    public static void softmaxCausal(MemorySegment att, int rows, long ld, int firstLen, float scale) {
        requireNative(att, "attention scores");
        if (rows < 1 || firstLen < 1 || (long) firstLen + rows - 1 > ld) {
            throw new IllegalArgumentException("softmax: " + rows + " rows of " + firstLen + "+t scores do not fit rows of ld=" + ld);
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("softmax scale must be finite, got " + scale);
        }
        requireBytes(att, "attention scores", rowBytes(rows, ld, ld), () -> rows + " rows of " + ld + " floats");
        if (att.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException("attention scores must be 4-byte aligned");
        }
        try {
            int rc = (int) SOFTMAX_CAUSAL.invokeExact(att, rows, ld, firstLen, scale);
            if (rc != QG_OK) {
                throw new IllegalStateException("native qg_softmax_causal rejected rows=" + rows + " ld=" + ld + " (code " + rc + ")");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Causal grouped-query attention of {@code t} queries at positions {@code start .. start+t-1} over a
     * KV cache holding positions {@code 0 .. start+t-1}; query head {@code h} reads kv head
     * {@code h / (nHeads / nKvHeads)}. Scores, the causal softmax (vectorized exp, relative error ~1e-7)
     * and the weighted sum of values are fused; (head, query block) tasks run over the kernel pool.
     *
     * @param q            {@code [t][ldq]} floats, head {@code h} at column {@code h·hs}
     * @param keysT        keys, transposed per kv head: float {@code g·kvHeadStride + i·ldKv + p} is dim
     *                     {@code i} of position {@code p}
     * @param valuesT      values, stored the same way
     * @param out          {@code [t][ldo]} floats, written as {@code softmax(scale·q·Kᵀ)·V}
     */
    public static void attention(int t, int nHeads, int nKvHeads, int hs, int start, MemorySegment q, long ldq,
                                 MemorySegment keysT, MemorySegment valuesT, long kvHeadStride, long ldKv, float scale,
                                 MemorySegment out, long ldo) {
        requireNative(q, "queries");
        requireNative(keysT, "key cache");
        requireNative(valuesT, "value cache");
        requireNative(out, "attention output");
        if (t < 1 || nHeads < 1 || nKvHeads < 1 || nHeads % nKvHeads != 0 || hs < 1 || start < 0) {
            throw new IllegalArgumentException("attention: t=" + t + ", heads=" + nHeads + "/" + nKvHeads + ", hs=" + hs
                    + ", start=" + start + " (need positive sizes, heads a multiple of kv heads, start >= 0)");
        }
        long width = (long) nHeads * hs, positions = (long) start + t;
        if (ldq < width || ldo < width) {
            throw new IllegalArgumentException("attention: ldq=" + ldq + " / ldo=" + ldo + " below heads*hs=" + width);
        }
        if (ldKv < positions || kvHeadStride / hs < ldKv) { // kvHeadStride < hs·ldKv without overflowing
            throw new IllegalArgumentException("attention: cache layout ld=" + ldKv + ", head stride=" + kvHeadStride
                    + " cannot hold " + positions + " positions of head size " + hs);
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException("attention scale must be finite, got " + scale);
        }
        long cacheFloats = rowBytes(nKvHeads, kvHeadStride, rowBytes(hs, ldKv, positions) / 4) / 4;
        requireBytes(q, "queries", rowBytes(t, ldq, width), () -> t + " rows of stride " + ldq);
        requireBytes(out, "attention output", rowBytes(t, ldo, width), () -> t + " rows of stride " + ldo);
        requireBytes(keysT, "key cache", 4L * cacheFloats, () -> nKvHeads + " kv heads");
        requireBytes(valuesT, "value cache", 4L * cacheFloats, () -> nKvHeads + " kv heads");
        for (MemorySegment s : new MemorySegment[] {q, keysT, valuesT, out}) {
            if (s.address() % Float.BYTES != 0) {
                throw new IllegalArgumentException("attention buffers must be 4-byte aligned");
            }
        }
        try {
            int rc = (int) ATTENTION.invokeExact(t, nHeads, nKvHeads, hs, start, q, ldq, keysT, valuesT, kvHeadStride,
                    ldKv, scale, out, ldo);
            if (rc != QG_OK) {
                throw new IllegalStateException(failure("qg_attention", rc) + "this call (code " + rc + ")");
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** {@code gate[i] = silu(gate[i]) · up[i]} for {@code i < n} (the SwiGLU of a Llama FFN), vectorized exp. */
    public static void swiglu(MemorySegment gate, MemorySegment up, long n) {
        swiglu(gate, up, 1, n, n);
    }

    /**
     * SwiGLU over {@code rows} rows of {@code n} values with row stride {@code ld}:
     * {@code gate[r·ld+i] = silu(gate[r·ld+i]) · up[r·ld+i]}. With {@code ld = 2n} and {@code up} = gate + n
     * floats this runs on the two halves of one fused gate|up GEMM output.
     */
    public static void swiglu(MemorySegment gate, MemorySegment up, long rows, long n, long ld) {
        requireNative(gate, "gate");
        requireNative(up, "up");
        if (rows < 1 || n < 1 || ld < n) {
            throw new IllegalArgumentException("swiglu: rows=" + rows + ", n=" + n + ", ld=" + ld
                    + " (need rows, n >= 1 and ld >= n)");
        }
        long floats = (rows - 1) * ld + n;
        requireBytes(gate, "gate", 4L * floats, () -> rows + " rows of " + n + " (stride " + ld + ")");
        requireBytes(up, "up", 4L * floats, () -> rows + " rows of " + n + " (stride " + ld + ")");
        if (gate.address() % Float.BYTES != 0 || up.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException("swiglu buffers must be 4-byte aligned");
        }
        try {
            int rc = (int) SWIGLU.invokeExact(gate, up, rows, n, ld);
            if (rc != QG_OK) {
                throw new IllegalStateException("native qg_swiglu rejected rows=" + rows + " n=" + n + " (code " + rc + ")");
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * The pre-norm residual step over {@code rows} rows of {@code dim} floats: {@code x[r] += delta[r]} (skipped when
     * {@code delta} is null), then {@code out[r] = w ⊙ x[r] / sqrt(mean(x[r]²) + eps)} (RMSNorm; the sum of squares
     * in 16 interleaved partial sums, the same bits on every tier). {@code out} may be {@code x}; rows over the pool.
     */
    public static void addRmsnorm(MemorySegment x, long ldx, MemorySegment delta, long ldd, MemorySegment out,
                                  long ldo, MemorySegment w, long rows, long dim, float eps) {
        requireNative(x, "residual rows");
        requireNative(out, "normed rows");
        requireNative(w, "norm weights");
        if (delta != null) {
            requireNative(delta, "residual delta");
        }
        if (rows < 1 || dim < 1 || rows > Integer.MAX_VALUE || ldx < dim || ldo < dim || (delta != null && ldd < dim)) {
            throw new IllegalArgumentException("add_rmsnorm: rows=" + rows + ", dim=" + dim + ", ldx=" + ldx + ", ldd="
                    + ldd + ", ldo=" + ldo + " (need rows, dim >= 1 and every stride >= dim)");
        }
        if (!(eps >= 0f) || !Float.isFinite(eps)) {
            throw new IllegalArgumentException("add_rmsnorm: eps must be finite and >= 0, got " + eps);
        }
        requireBytes(x, "residual rows", rowBytes(rows, ldx, dim), () -> rows + " rows of " + dim + " (stride " + ldx + ")");
        requireBytes(out, "normed rows", rowBytes(rows, ldo, dim), () -> rows + " rows of " + dim + " (stride " + ldo + ")");
        requireBytes(w, "norm weights", 4L * dim, () -> dim + " floats");
        if (delta != null) {
            requireBytes(delta, "residual delta", rowBytes(rows, ldd, dim), () -> rows + " rows of " + dim + " (stride " + ldd + ")");
        }
        for (MemorySegment s : new MemorySegment[] {x, out, w, delta}) {
            if (s != null && s.address() % Float.BYTES != 0) {
                throw new IllegalArgumentException("add_rmsnorm buffers must be 4-byte aligned");
            }
        }
        // rows are split over threads: out may be x itself (row for row), never a shifted view of it
        if (x.asOverlappingSlice(out).isPresent() && !(x.address() == out.address() && ldx == ldo)) {
            throw new IllegalArgumentException("add_rmsnorm: out overlaps x without being x with the same stride");
        }
        try {
            MemorySegment d = delta == null ? MemorySegment.NULL : delta;
            long dld = delta == null ? 0L : ldd;
            int rc = (int) ADD_RMSNORM.invokeExact(x, ldx, d, dld, out, ldo, w, rows, dim, eps);
            if (rc != QG_OK) {
                throw new IllegalStateException("native qg_add_rmsnorm rejected rows=" + rows + " dim=" + dim + " (code " + rc + ")");
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * Rotary position embedding in place: row {@code r} of {@code x} (stride {@code ldx}) holds {@code nHeads} heads
     * of {@code hs} floats at position {@code start + r}; pair {@code i} turns by the angle whose cosine and sine are
     * {@code cos[p·hs/2 + i]}, {@code sin[p·hs/2 + i]} (tables of {@code positions} positions). Pairs are
     * {@code (x[2i], x[2i+1])}, or {@code (x[i], x[i+hs/2])} when {@code rotateHalf}. Rows over the pool.
     */
    public static void rope(MemorySegment x, long rows, long ldx, int nHeads, int hs, int start, MemorySegment cos,
                            MemorySegment sin, long positions, boolean rotateHalf) {
        requireNative(x, "rope rows");
        requireNative(cos, "rope cosines");
        requireNative(sin, "rope sines");
        if (rows < 1 || rows > Integer.MAX_VALUE || nHeads < 1 || hs < 2 || hs % 2 != 0 || start < 0
                || ldx < (long) nHeads * hs) {
            throw new IllegalArgumentException("rope: rows=" + rows + ", heads=" + nHeads + ", hs=" + hs + ", start="
                    + start + ", ldx=" + ldx + " (need rows, heads >= 1, an even head size, ldx >= heads*hs)");
        }
        if (start + rows > positions) {
            throw new IllegalArgumentException("rope: positions " + start + ".." + (start + rows - 1)
                    + " are past the tables' " + positions + " positions");
        }
        requireBytes(x, "rope rows", rowBytes(rows, ldx, (long) nHeads * hs), () -> rows + " rows of stride " + ldx);
        requireBytes(cos, "rope cosines", rowBytes(positions, hs / 2, hs / 2), () -> positions + " positions of " + hs / 2);
        requireBytes(sin, "rope sines", rowBytes(positions, hs / 2, hs / 2), () -> positions + " positions of " + hs / 2);
        for (MemorySegment s : new MemorySegment[] {x, cos, sin}) {
            if (s.address() % Float.BYTES != 0) {
                throw new IllegalArgumentException("rope buffers must be 4-byte aligned");
            }
        }
        try {
            int rc = (int) ROPE.invokeExact(x, rows, ldx, nHeads, hs, start, cos, sin, positions, rotateHalf ? 1 : 0);
            if (rc != QG_OK) {
                throw new IllegalStateException("native qg_rope rejected rows=" + rows + " (code " + rc + ")");
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * Keys or values of a chunk into a transposed KV cache (the layout {@link #attention} reads): row {@code t} of
     * {@code src} ({@code rows} rows, stride {@code ld}) holds {@code nKvHeads} heads of {@code hs} floats; dim
     * {@code i} of head {@code g} lands at float {@code g·headStride + i·ldCache + start + t} of {@code cache}.
     */
    public static void kvStore(MemorySegment src, long rows, long ld, int nKvHeads, int hs, MemorySegment cache,
                               long headStride, long ldCache, int start) {
        requireNative(src, "key/value rows");
        requireNative(cache, "KV cache");
        if (rows < 1 || nKvHeads < 1 || hs < 1 || start < 0 || ld < (long) nKvHeads * hs) {
            throw new IllegalArgumentException("kv store: rows=" + rows + ", kv heads=" + nKvHeads + ", hs=" + hs
                    + ", start=" + start + ", ld=" + ld + " (need positive sizes and ld >= heads*hs)");
        }
        if (ldCache < start + rows || headStride / hs < ldCache) { // headStride < hs·ldCache without overflowing
            throw new IllegalArgumentException("kv store: cache layout ld=" + ldCache + ", head stride=" + headStride
                    + " cannot hold positions " + start + ".." + (start + rows - 1) + " of head size " + hs);
        }
        requireBytes(src, "key/value rows", rowBytes(rows, ld, (long) nKvHeads * hs), () -> rows + " rows of stride " + ld);
        requireBytes(cache, "KV cache", rowBytes(nKvHeads, headStride, rowBytes(hs, ldCache, start + rows) / 4), () -> nKvHeads + " kv heads");
        if (src.address() % Float.BYTES != 0 || cache.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException("kv store buffers must be 4-byte aligned");
        }
        try {
            int rc = (int) KV_STORE.invokeExact(src, rows, ld, nKvHeads, hs, cache, headStride, ldCache, start);
            if (rc != QG_OK) {
                throw new IllegalStateException("native qg_kv_store rejected rows=" + rows + " (code " + rc + ")");
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** Sums {@code bytes} of {@code buf} with all pool threads (read bandwidth probe). */
    public static long streamRead(MemorySegment buf, long bytes) {
        requireNative(buf, "buffer");
        if (bytes < 64 || bytes % 64 != 0 || bytes > buf.byteSize() || buf.address() % 64 != 0) {
            throw new IllegalArgumentException("stream read needs a 64-byte aligned buffer and a size that is a positive multiple of 64 within it");
        }
        try {
            return (long) STREAM_READ.invokeExact(buf, bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The fp16 scales the native calls take: none for a dense format. */
    private static MemorySegment scalesOf(QuantizedMatrix w) {
        return w.format().isQuantized() ? w.scales() : MemorySegment.NULL;
    }

    /** The zero points the native calls take: int4's only. */
    private static MemorySegment zerosOf(QuantizedMatrix w) {
        return w.format() == WeightFormat.INT4 ? w.zeros() : MemorySegment.NULL;
    }

    /** The group the native calls take: a dense format's whole row. */
    private static int groupOf(QuantizedMatrix w) {
        return w.format().isQuantized() ? w.groupSize() : w.cols();
    }

    /** Prepacked data is used only with the matrix it was packed from: the sizes alone could not tell another one. */
    private static void requirePackedFrom(QuantizedMatrix packedFrom, QuantizedMatrix w, String what) {
        if (packedFrom != w) {
            throw new IllegalArgumentException(what + " of " + packedFrom + " given with " + w
                    + ": they were packed from another matrix");
        }
    }

    /** The checks every GEMM entry makes: m, strides, x and y native, large enough and aligned, the weights. */
    private static void checkCall(QuantizedMatrix w, MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
        Objects.requireNonNull(w, "weights");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        int n = w.rows();
        int k = w.cols();
        w.checkGemmShape(m, ldx, ldy);
        requireNative(x, "x");
        requireNative(y, "y");
        requireBytes(x, "x", rowBytes(m, ldx, k), () -> m + " rows of ldx=" + ldx + " with K=" + k);
        requireBytes(y, "y", rowBytes(m, ldy, n), () -> m + " rows of ldy=" + ldy + " with N=" + n);
        if (x.address() % Float.BYTES != 0 || y.address() % Float.BYTES != 0) {
            throw new IllegalArgumentException("x and y must be 4-byte aligned");
        }
        checkWeights(w);
    }

    private static void checkWeights(QuantizedMatrix w) {
        WeightFormat fmt = w.format();
        long n = w.rows();
        requireNative(w.codes(), "weight codes");
        requireBytes(w.codes(), "weight codes", n * w.rowBytes(), () -> n + " rows of " + w.rowBytes() + " bytes");
        if (fmt.isQuantized()) {
            int g = w.groupSize();
            int k = w.cols();
            if (!(g == k || g == 32 || g == 64 || g % 128 == 0)) {
                throw new IllegalArgumentException("group " + g + " is not supported by the kernels (32, 64, 128·j or per row)");
            }
            requireNative(w.scales(), "scales");
            requireBytes(w.scales(), "scales", n * w.groupsPerRow() * 2L, () -> n + "x" + w.groupsPerRow() + " fp16 scales");
            if (fmt == WeightFormat.INT4) {
                requireNative(w.zeros(), "zeros");
                requireBytes(w.zeros(), "zeros", n * w.groupsPerRow(), () -> n + "x" + w.groupsPerRow() + " zero points");
            }
        }
    }

    private static void requireNative(MemorySegment s, String what) {
        if (s == null || s.equals(MemorySegment.NULL) || !s.isNative()) {
            throw new IllegalArgumentException(what + " must be a native (off-heap) memory segment");
        }
        if (!s.scope().isAlive()) {
            throw new IllegalStateException(what + ": its arena is already closed");
        }
    }

    /**
     * Bytes spanned by {@code rows} rows of {@code width} floats, {@code ld} floats apart: {@code 4·((rows-1)·ld + width)},
     * in exact arithmetic, so that a huge stride is an error here and never a small wrapped size that passes.
     */
    private static long rowBytes(long rows, long ld, long width) {
        try {
            return Math.multiplyExact(Math.addExact(Math.multiplyExact(rows - 1, ld), width), (long) Float.BYTES);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(rows + " rows of " + width + " floats, " + ld + " apart, overflow a 64-bit size");
        }
    }

    /** {@code shape} builds the message only when it is needed: every native call checks its buffers. */
    private static void requireBytes(MemorySegment s, String what, long need, java.util.function.Supplier<String> shape) {
        if (s.byteSize() < need) {
            throw new IllegalArgumentException(what + " holds " + s.byteSize() + " bytes but " + shape.get() + " needs " + need);
        }
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
