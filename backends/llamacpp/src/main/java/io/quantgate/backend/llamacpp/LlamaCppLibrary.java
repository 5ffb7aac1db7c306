package io.quantgate.backend.llamacpp;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * llama.cpp's C API ({@code llama.h}) bound with {@code java.lang.foreign}: the shared libraries of one release, found
 * in a directory, loaded once per JVM.
 *
 * <p>Which libraries: {@code -Dquantgate.llamacpp.dir}, else {@code $QUANTGATE_LLAMACPP_DIR}, else what
 * {@code ./quantgate setup llamacpp} unpacks ({@code ~/.cache/quantgate/llamacpp/3.22.1/linux-x64}: the npm package
 * {@code @node-llama-cpp/linux-x64} 3.22.1, llama.cpp release v0.5.0 built with every x86-64 CPU variant, of which
 * ggml loads the best one this CPU runs). A user's own build works when it is the same release: the structs passed by
 * value ({@code llama_model_params}, {@code llama_context_params}, {@code llama_batch}) are laid out here as that
 * release's header declares them, so another version is refused ({@link #SUPPORTED_VERSION}), and the defaults the
 * library returns are checked at the offsets this class reads before anything is passed back
 * ({@code LlamaCppLayoutTest} compares every offset with the header compiled by gcc).
 */
final class LlamaCppLibrary {
    /** The {@code llama_version()} of the release whose header the layouts below follow. */
    static final String SUPPORTED_VERSION = "0.5.0-dev";
    /** Where the release came from, for the engine line. */
    static final String PACKAGE = "release v0.5.0, prebuilt: npm @node-llama-cpp/linux-x64 3.22.1";
    static final String DIR_PROPERTY = "quantgate.llamacpp.dir";
    static final String DIR_ENV = "QUANTGATE_LLAMACPP_DIR";

    // struct llama_model_params (80 bytes): two pointers, five ints, four pointers, six bools
    static final StructLayout MODEL_PARAMS = MemoryLayout.structLayout(
            ADDRESS.withName("devices"), ADDRESS.withName("tensor_buft_overrides"),
            JAVA_INT.withName("n_gpu_layers"), JAVA_INT.withName("split_mode"), JAVA_INT.withName("load_mode"),
            JAVA_INT.withName("lazy_mode"), JAVA_INT.withName("main_gpu"), MemoryLayout.paddingLayout(4),
            ADDRESS.withName("tensor_split"), ADDRESS.withName("progress_callback"),
            ADDRESS.withName("progress_callback_user_data"), ADDRESS.withName("kv_overrides"),
            JAVA_BOOLEAN.withName("vocab_only"), JAVA_BOOLEAN.withName("check_tensors"),
            JAVA_BOOLEAN.withName("use_extra_bufts"), JAVA_BOOLEAN.withName("no_host"),
            JAVA_BOOLEAN.withName("no_alloc"), JAVA_BOOLEAN.withName("load_mtp"), MemoryLayout.paddingLayout(2));

    // struct llama_context_params (160 bytes)
    static final StructLayout CONTEXT_PARAMS = MemoryLayout.structLayout(
            JAVA_INT.withName("n_ctx"), JAVA_INT.withName("n_batch"), JAVA_INT.withName("n_ubatch"),
            JAVA_INT.withName("n_seq_max"), JAVA_INT.withName("n_rs_seq"), JAVA_INT.withName("n_outputs_max"),
            JAVA_INT.withName("n_outputs_max_per_seq"), JAVA_INT.withName("n_threads"),
            JAVA_INT.withName("n_threads_batch"), JAVA_INT.withName("ctx_type"), JAVA_INT.withName("rope_scaling_type"),
            JAVA_INT.withName("pooling_type"), JAVA_INT.withName("attention_type"), JAVA_INT.withName("flash_attn_type"),
            JAVA_FLOAT.withName("rope_freq_base"), JAVA_FLOAT.withName("rope_freq_scale"),
            JAVA_FLOAT.withName("yarn_ext_factor"), JAVA_FLOAT.withName("yarn_attn_factor"),
            JAVA_FLOAT.withName("yarn_beta_fast"), JAVA_FLOAT.withName("yarn_beta_slow"),
            JAVA_INT.withName("yarn_orig_ctx"), JAVA_FLOAT.withName("defrag_thold"),
            ADDRESS.withName("cb_eval"), ADDRESS.withName("cb_eval_user_data"),
            JAVA_INT.withName("type_k"), JAVA_INT.withName("type_v"),
            ADDRESS.withName("abort_callback"), ADDRESS.withName("abort_callback_data"),
            JAVA_BOOLEAN.withName("embeddings"), JAVA_BOOLEAN.withName("offload_kqv"), JAVA_BOOLEAN.withName("no_perf"),
            JAVA_BOOLEAN.withName("op_offload"), JAVA_BOOLEAN.withName("swa_full"), JAVA_BOOLEAN.withName("kv_unified"),
            MemoryLayout.paddingLayout(2),
            ADDRESS.withName("samplers"), JAVA_LONG.withName("n_samplers"), ADDRESS.withName("ctx_other"));

    // struct llama_batch (56 bytes)
    static final StructLayout BATCH = MemoryLayout.structLayout(
            JAVA_INT.withName("n_tokens"), MemoryLayout.paddingLayout(4), ADDRESS.withName("token"),
            ADDRESS.withName("embd"), ADDRESS.withName("pos"), ADDRESS.withName("n_seq_id"),
            ADDRESS.withName("seq_id"), ADDRESS.withName("logits"));

    static long offset(StructLayout s, String field) {
        return s.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    final Path dir;
    final String version;
    final String systemInfo;
    /** The ggml CPU variant library this process loaded (e.g. {@code zen4}), from /proc/self/maps. */
    final String cpuVariant;

    final MethodHandle modelDefaultParams, contextDefaultParams, modelLoad, modelFree, initFromModel, free, getMemory,
            memoryClear, decode, getLogitsIth, modelGetVocab, vocabNTokens, nCtx;

    private static final Deque<String> LOG = new ArrayDeque<>();
    private static LlamaCppLibrary instance;
    private static String failure;

    private LlamaCppLibrary(Path dir, SymbolLookup llama, SymbolLookup ggml) throws Throwable {
        this.dir = dir;
        Linker linker = Linker.nativeLinker();
        MethodHandle versionH = h(linker, llama, "llama_version", FunctionDescriptor.of(ADDRESS));
        this.version = string((MemorySegment) versionH.invokeExact());
        if (!SUPPORTED_VERSION.equals(version)) {
            throw new IllegalStateException("the llama.cpp in " + dir + " is version " + version + "; this binding "
                    + "passes llama.cpp's structs as release " + SUPPORTED_VERSION + " lays them out, and a different "
                    + "layout would be a silent wrong call: use that release (./quantgate setup llamacpp)");
        }
        // quiet logs: kept (the last lines go into error messages), never printed on stdout, which may carry JSON
        MethodHandle logSet = h(linker, llama, "llama_log_set", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        MethodHandle onLog = MethodHandles.lookup().findStatic(LlamaCppLibrary.class, "onLog",
                MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
        MemorySegment stub = linker.upcallStub(onLog, FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS),
                Arena.global());
        logSet.invokeExact(stub, MemorySegment.NULL);
        MethodHandle loadAll = h(linker, ggml, "ggml_backend_load_all_from_path", FunctionDescriptor.ofVoid(ADDRESS));
        loadAll.invokeExact(Arena.global().allocateFrom(dir.toString()));
        h(linker, llama, "llama_backend_init", FunctionDescriptor.ofVoid()).invokeExact();
        this.cpuVariant = loadedCpuVariant();
        if (cpuVariant == null) {
            throw new IllegalStateException("ggml loaded no CPU backend from " + dir + " (no libggml-cpu-*.so there "
                    + "runs on this CPU): " + lastLog());
        }
        this.systemInfo = string((MemorySegment) h(linker, llama, "llama_print_system_info",
                FunctionDescriptor.of(ADDRESS)).invokeExact());
        modelDefaultParams = h(linker, llama, "llama_model_default_params", FunctionDescriptor.of(MODEL_PARAMS));
        contextDefaultParams = h(linker, llama, "llama_context_default_params", FunctionDescriptor.of(CONTEXT_PARAMS));
        modelLoad = h(linker, llama, "llama_model_load_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, MODEL_PARAMS));
        modelFree = h(linker, llama, "llama_model_free", FunctionDescriptor.ofVoid(ADDRESS));
        initFromModel = h(linker, llama, "llama_init_from_model", FunctionDescriptor.of(ADDRESS, ADDRESS, CONTEXT_PARAMS));
        free = h(linker, llama, "llama_free", FunctionDescriptor.ofVoid(ADDRESS));
        getMemory = h(linker, llama, "llama_get_memory", FunctionDescriptor.of(ADDRESS, ADDRESS));
        memoryClear = h(linker, llama, "llama_memory_clear", FunctionDescriptor.ofVoid(ADDRESS, JAVA_BOOLEAN));
        decode = h(linker, llama, "llama_decode", FunctionDescriptor.of(JAVA_INT, ADDRESS, BATCH));
        getLogitsIth = h(linker, llama, "llama_get_logits_ith", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        modelGetVocab = h(linker, llama, "llama_model_get_vocab", FunctionDescriptor.of(ADDRESS, ADDRESS));
        vocabNTokens = h(linker, llama, "llama_vocab_n_tokens", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        nCtx = h(linker, llama, "llama_n_ctx", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        checkDefaults();
    }

    /**
     * The release's defaults, read at this class's offsets: if the library lays its structs out otherwise, these
     * read as other numbers and nothing is ever passed to it.
     */
    private void checkDefaults() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = (MemorySegment) modelDefaultParams.invokeExact((java.lang.foreign.SegmentAllocator) a);
            MemorySegment c = (MemorySegment) contextDefaultParams.invokeExact((java.lang.foreign.SegmentAllocator) a);
            boolean ok = m.get(JAVA_INT, offset(MODEL_PARAMS, "n_gpu_layers")) == -1
                    && m.get(JAVA_INT, offset(MODEL_PARAMS, "main_gpu")) == 0
                    && m.get(JAVA_BOOLEAN, offset(MODEL_PARAMS, "use_extra_bufts"))
                    && !m.get(JAVA_BOOLEAN, offset(MODEL_PARAMS, "vocab_only"))
                    && c.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_ctx")) == 512
                    && c.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_batch")) == 2048
                    && c.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_ubatch")) == 512
                    && c.get(JAVA_INT, offset(CONTEXT_PARAMS, "n_seq_max")) == 1
                    && c.get(JAVA_FLOAT, offset(CONTEXT_PARAMS, "yarn_ext_factor")) == -1f
                    && c.get(JAVA_FLOAT, offset(CONTEXT_PARAMS, "defrag_thold")) == -1f
                    && c.get(JAVA_INT, offset(CONTEXT_PARAMS, "type_k")) == 1
                    && c.get(JAVA_BOOLEAN, offset(CONTEXT_PARAMS, "offload_kqv"))
                    && c.get(ADDRESS, offset(CONTEXT_PARAMS, "samplers")).equals(MemorySegment.NULL);
            if (!ok) {
                throw new IllegalStateException("the llama.cpp in " + dir + " returns default parameters that do not "
                        + "read as release " + SUPPORTED_VERSION + "'s at this binding's offsets: refusing to call it");
            }
        }
    }

    private static MethodHandle h(Linker linker, SymbolLookup lib, String name, FunctionDescriptor d) {
        MemorySegment s = lib.find(name).orElseThrow(() -> new IllegalStateException("llama.cpp library has no "
                + name));
        return linker.downcallHandle(s, d);
    }

    static String string(MemorySegment cString) {
        return cString.equals(MemorySegment.NULL) ? "" : cString.reinterpret(1 << 16).getString(0);
    }

    @SuppressWarnings("unused") // the upcall: must not throw (an exception here would end the JVM)
    private static void onLog(int level, MemorySegment text, MemorySegment user) {
        try {
            String line = string(text).strip();
            if (!line.isEmpty()) {
                synchronized (LOG) {
                    LOG.addLast(line);
                    while (LOG.size() > 20) {
                        LOG.removeFirst();
                    }
                }
            }
        } catch (Throwable ignored) {
            // a log line lost is better than a JVM lost
        }
    }

    /** The last lines llama.cpp logged (for an error message). */
    static String lastLog() {
        synchronized (LOG) {
            return LOG.isEmpty() ? "(llama.cpp logged nothing)" : String.join(" | ", List.copyOf(LOG).subList(
                    Math.max(0, LOG.size() - 4), LOG.size()));
        }
    }

    private static String loadedCpuVariant() {
        try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
            Pattern p = Pattern.compile("libggml-cpu-?([A-Za-z0-9_]*)\\.so");
            return maps.map(p::matcher).filter(Matcher::find).map(m -> m.group(1).isEmpty() ? "cpu" : m.group(1))
                    .findFirst().orElse(null);
        } catch (IOException e) {
            return "unknown (no /proc/self/maps)";
        }
    }

    /** The directory the libraries are taken from (property, environment, then the setup step's cache). */
    static Path directory() {
        String d = System.getProperty(DIR_PROPERTY);
        if (d == null || d.isBlank()) {
            d = System.getenv(DIR_ENV);
        }
        if (d == null || d.isBlank()) {
            String cache = System.getenv("QUANTGATE_CACHE");
            Path base = cache != null && !cache.isBlank() ? Path.of(cache)
                    : Path.of(System.getProperty("user.home"), ".cache", "quantgate");
            return base.resolve("llamacpp").resolve("3.22.1").resolve("linux-x64");
        }
        return Path.of(d);
    }

    /** The library, loaded once; or why it cannot be. */
    static synchronized LlamaCppLibrary get() {
        if (instance == null && failure == null) {
            Path dir = directory().toAbsolutePath();
            try {
                Path llama = find(dir, "libllama");
                Path ggml = find(dir, "libggml");
                Arena global = Arena.global();
                // libggml's RUNPATH is $ORIGIN: its libggml-base comes from the same directory
                SymbolLookup g = SymbolLookup.libraryLookup(ggml, global);
                SymbolLookup l = SymbolLookup.libraryLookup(llama, global);
                instance = new LlamaCppLibrary(dir, l, g);
            } catch (Throwable t) {
                failure = t.getMessage() == null ? t.toString() : t.getMessage();
            }
        }
        if (instance == null) {
            throw new IllegalStateException(failure);
        }
        return instance;
    }

    /** Why llama.cpp cannot run here, or empty. */
    static Optional<String> unavailableReason() {
        try {
            get();
            return Optional.empty();
        } catch (IllegalStateException e) {
            return Optional.of(e.getMessage());
        }
    }

    private static Path find(Path dir, String stem) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("llama.cpp's libraries are not installed: " + dir + " does not exist. "
                    + "Run ./quantgate setup llamacpp (fetches " + PACKAGE + "), or point -D" + DIR_PROPERTY + " / $"
                    + DIR_ENV + " at the directory of your own build of release v0.5.0 (libllama.so, libggml*.so)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            // libllama.so or libllama.v0.5.0.so, not libllama-common.so
            Pattern name = Pattern.compile(Pattern.quote(stem) + "(\\.v[0-9.]+)?\\.so(\\.[0-9.]+)?");
            return s.filter(p -> name.matcher(p.getFileName().toString()).matches()).sorted().findFirst()
                    .orElseThrow(() -> new IllegalStateException(dir + " has no " + stem + ".so"));
        }
    }

    /** One line for result rows: what ran. */
    String engineLine(int threads) {
        boolean setup = dir.equals(directory().toAbsolutePath()) && System.getProperty(DIR_PROPERTY) == null
                && System.getenv(DIR_ENV) == null;
        return String.format(Locale.ROOT, "llama.cpp %s (%s), CPU variant %s, %d threads, KV cache F16 "
                + "(llama.cpp's default)", version, setup ? PACKAGE : "libraries from " + dir, cpuVariant, threads);
    }
}
