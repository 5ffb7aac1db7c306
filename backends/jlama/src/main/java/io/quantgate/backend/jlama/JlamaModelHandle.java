package io.quantgate.backend.jlama;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import io.quantgate.backend.BackendException;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.Prompts;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;
import io.quantgate.results.model.AtomicFiles;
import io.quantgate.runtime.model.LlamaConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * A jlama model over a QuantGate-written Hugging Face directory. jlama insists on a {@code tokenizer.json} even though
 * QuantGate feeds it token ids; when the directory has none, a placeholder BPE vocabulary of the right size is written
 * ({@code <unk>}, {@code <s>}, {@code </s>}, then {@code t3 …}), which jlama loads and never uses. Every call runs in a
 * fresh KV buffer (an empty cache). Timings are {@code System.nanoTime} around jlama's forward calls, the classifier
 * included (as the native backend's).
 */
final class JlamaModelHandle implements BackendModel, LogitsModel {
    private KvBufferCache.KvBuffer kv; // the buffer of the current timed call (see reset)
    private static volatile String loadFailure;
    private static volatile boolean loaded;

    private final RunPlan plan;
    private final AbstractModel model;
    private final KvBufferCache cache;
    private final int vocab;
    private final int ctx;

    /**
     * jlama picks its tensor operations once per JVM. Its native SIMD operations (jlama-native 0.8.4, built for
     * Java 21) give wrong results on JDK 25 here: log-probability ratios off by up to ~1 nat against the native
     * kernels, the java backend and an fp64 forward pass, while its pure-Java Panama operations agree to ~1e-5.
     * So the Panama operations are forced unless {@code -Dquantgate.jlama.nativeOps=true} asks for the native ones.
     */
    static synchronized Optional<String> load() {
        if (!loaded && loadFailure == null) {
            if (!Boolean.getBoolean("quantgate.jlama.nativeOps")) {
                System.setProperty("jlama.force_panama_tensor_operations", "true");
            }
            try {
                TensorOperationsProvider.get();
                loaded = true;
            } catch (RuntimeException | LinkageError e) {
                loadFailure = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
        return Optional.ofNullable(loadFailure).map(f -> "jlama failed to load: " + f);
    }

    static String operations() {
        return TensorOperationsProvider.get().name();
    }

    JlamaModelHandle(RunPlan plan, Path dir, LlamaConfig c, int ctx) {
        this.plan = plan;
        this.vocab = c.vocabSize();
        this.ctx = ctx;
        Path tok = dir.resolve("tokenizer.json");
        if (!Files.exists(tok)) {
            StringBuilder v = new StringBuilder("{\"version\":\"1.0\",\"added_tokens\":[],\"normalizer\":null,"
                    + "\"pre_tokenizer\":null,\"decoder\":null,\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"vocab\":{");
            for (int i = 0; i < vocab; i++) {
                String piece = i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : "t" + i;
                v.append(i == 0 ? "" : ",").append('"').append(piece).append("\":").append(i);
            }
            AtomicFiles.writeString(tok, v.append("},\"merges\":[]}}\n").toString());
        }
        try {
            this.model = ModelSupport.loadModel(dir.toFile(), DType.F32, DType.F32);
        } catch (RuntimeException e) {
            throw new BackendException("jlama could not load " + dir + ": " + e, e);
        }
        this.cache = new KvBufferCache(model);
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
        return Optional.of(this);
    }

    @Override
    public float[][] logits(int[] tokens) {
        return logits(tokens, 0);
    }

    @Override
    public float[][] logits(int[] tokens, int firstRow) {
        Prompts.check(tokens, ctx, vocab, "logits");
        float[][] out = new float[tokens.length][];
        try (KvBufferCache.KvBuffer kv = cache.getKvBuffer(UUID.randomUUID())) {
            for (int start = 0; start < tokens.length; start += MAX_BATCH) {
                int[] piece = java.util.Arrays.copyOfRange(tokens, start, Math.min(tokens.length, start + MAX_BATCH));
                AbstractTensor h = forwardPiece(piece, start, kv);
                for (int i = Math.max(firstRow, start); i < start + piece.length; i++) {
                    try (AbstractTensor row = h.slice(i - start)) {
                        out[i] = logProbabilities(model.getLogits(row));
                    }
                }
                h.close();
            }
        }
        return out;
    }

    /**
     * jlama's {@code batchForward} cuts a prompt into batches of its {@code MAX_BATCH_SIZE} and returns the hidden
     * states of the last batch only, so QuantGate feeds it pieces of at most that size and checks that every row
     * came back.
     */
    private AbstractTensor forwardPiece(int[] piece, int start, KvBufferCache.KvBuffer kv) {
        AbstractTensor h = model.batchForward(piece, start, kv);
        if (h.shape().first() != piece.length) {
            int got = h.shape().first();
            h.close();
            throw new BackendException("jlama returned " + got + " hidden states for a batch of " + piece.length);
        }
        return h;
    }

    /** jlama's private {@code AbstractModel.MAX_BATCH_SIZE} (256 in 0.8.4), read once; 64 if it cannot be read. */
    static final int MAX_BATCH = maxBatch();

    private static int maxBatch() {
        try {
            java.lang.reflect.Field f = AbstractModel.class.getDeclaredField("MAX_BATCH_SIZE");
            f.setAccessible(true);
            return Math.max(1, (Integer) f.get(null));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return 64;
        }
    }

    /**
     * jlama's {@code getLogits} returns the softmax of the logits; their logarithms are the logits up to a constant
     * per row, which is all perplexity and KL divergence see. A probability that underflowed to 0 becomes −∞.
     */
    static float[] logProbabilities(float[] p) {
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = (float) Math.log(p[i]);
        }
        return out;
    }

    /** A fresh KV buffer for the next timed call: allocated here, untimed (jlama sizes it lazily). */
    @Override
    public void reset() {
        if (kv != null) {
            kv.close();
        }
        kv = cache.getKvBuffer(UUID.randomUUID());
    }

    private KvBufferCache.KvBuffer kv() {
        if (kv == null) {
            reset();
        }
        return kv;
    }

    @Override
    public void prefill(int[] prompt) {
        Prompts.check(prompt, ctx, vocab, "prefill");
        AbstractTensor h = model.batchForward(prompt, 0, kv()); // jlama batches internally; last batch returned
        try (AbstractTensor last = h.slice(h.shape().first() - 1)) {
            model.getLogits(last);
        } finally {
            h.close();
        }
    }

    @Override
    public void decode(int[] tokens) {
        Prompts.check(tokens, ctx, vocab, "decode");
        KvBufferCache.KvBuffer buffer = kv();
        for (int p = 0; p < tokens.length; p++) {
            try (AbstractTensor h = model.forward(tokens[p], p, buffer, Optional.empty())) {
                model.getLogits(h);
            }
        }
    }

    @Override
    public void close() {
        if (kv != null) {
            kv.close();
            kv = null;
        }
        cache.close();
        model.close();
    }
}
