package io.quantgate.backend.llamacpp;

import io.quantgate.backend.BackendException;
import io.quantgate.backend.BackendModel;
import io.quantgate.backend.Prompts;
import io.quantgate.backend.RunPlan;
import io.quantgate.evaluation.LogitsModel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import java.util.Optional;

import static io.quantgate.backend.llamacpp.LlamaCppLibrary.BATCH;
import static io.quantgate.backend.llamacpp.LlamaCppLibrary.CONTEXT_PARAMS;
import static io.quantgate.backend.llamacpp.LlamaCppLibrary.MODEL_PARAMS;
import static io.quantgate.backend.llamacpp.LlamaCppLibrary.offset;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A GGUF file loaded in llama.cpp through its C API, as llama-bench and llama-perplexity drive it: {@link #prefill} is
 * one {@code llama_decode} of the whole prompt (logits of the last position only), {@link #decode} is n single-token
 * {@code llama_decode} calls, {@link #logits} one {@code llama_decode} with every position's logits requested (what
 * llama-perplexity does per chunk). Every call starts from an emptied KV cache. Sizes, token ids and the context are
 * checked in Java before any native call. Not thread-safe.
 */
final class LlamaCppModel implements BackendModel, LogitsModel {
    private final LlamaCppLibrary lib;
    private final RunPlan plan;
    private final int vocab;
    private final int ctx;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment model;
    private final MemorySegment context;
    private final MemorySegment memory;
    // one batch of up to ctx tokens, reused: token ids, positions, one sequence id each, output flags
    private final MemorySegment batch, tokens, positions, nSeqId, seqIdPtrs, outputs;
    private boolean closed;

    LlamaCppModel(LlamaCppLibrary lib, RunPlan plan, Path gguf, int vocab, int ctx, int threads) {
        this.lib = lib;
        this.plan = plan;
        this.vocab = vocab;
        this.ctx = ctx;
        MemorySegment m = MemorySegment.NULL, c = MemorySegment.NULL;
        try {
            MemorySegment mp = (MemorySegment) lib.modelDefaultParams.invokeExact((SegmentAllocator) arena);
            mp.set(JAVA_INT, offset(MODEL_PARAMS, "n_gpu_layers"), 0); // CPU: the release has no GPU backend anyway
            m = (MemorySegment) lib.modelLoad.invokeExact((MemorySegment) arena.allocateFrom(gguf.toString()), mp);
            if (m.equals(MemorySegment.NULL)) {
                throw new BackendException("llama.cpp could not load " + gguf + ": " + LlamaCppLibrary.lastLog());
            }
            MemorySegment cp = (MemorySegment) lib.contextDefaultParams.invokeExact((SegmentAllocator) arena);
            // the whole context in one logical and one physical batch, so a pp512 prompt and a perplexity chunk are
            // each one llama_decode (llama-bench: -b 2048 -ub 512; llama-perplexity: n_batch = n_ctx)
            cp.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_ctx"), ctx);
            cp.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_batch"), ctx);
            cp.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_ubatch"), Math.min(ctx, 512));
            cp.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_seq_max"), 1);
            cp.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_threads"), threads);
            cp.set(JAVA_INT, offset(CONTEXT_PARAMS, "n_threads_batch"), threads);
            cp.set(JAVA_BOOLEAN, offset(CONTEXT_PARAMS, "no_perf"), true);
            c = (MemorySegment) lib.initFromModel.invokeExact(m, cp);
            if (c.equals(MemorySegment.NULL)) {
                throw new BackendException("llama.cpp could not create a context of " + ctx + " for " + gguf + ": "
                        + LlamaCppLibrary.lastLog());
            }
            int engineCtx = (int) lib.nCtx.invokeExact(c);
            int engineVocab = (int) lib.vocabNTokens.invokeExact((MemorySegment) lib.modelGetVocab.invokeExact(m));
            if (engineCtx < ctx || engineVocab != vocab) {
                throw new BackendException("llama.cpp opened " + gguf + " with context " + engineCtx + " and vocabulary "
                        + engineVocab + ", QuantGate expected " + ctx + " and " + vocab);
            }
            this.memory = (MemorySegment) lib.getMemory.invokeExact(c);
        } catch (Throwable t) {
            try {
                if (!c.equals(MemorySegment.NULL)) {
                    lib.free.invokeExact(c);
                }
                if (!m.equals(MemorySegment.NULL)) {
                    lib.modelFree.invokeExact(m);
                }
            } catch (Throwable ignored) {
                // the first failure is the one to report
            }
            arena.close();
            throw t instanceof BackendException b ? b : new BackendException("llama.cpp failed opening " + gguf + ": "
                    + t, t);
        }
        this.model = m;
        this.context = c;
        batch = arena.allocate(BATCH);
        tokens = arena.allocate(JAVA_INT, ctx);
        positions = arena.allocate(JAVA_INT, ctx);
        nSeqId = arena.allocate(JAVA_INT, ctx);
        MemorySegment seq0 = arena.allocate(JAVA_INT); // every token in sequence 0
        seqIdPtrs = arena.allocate(ADDRESS, ctx);
        outputs = arena.allocate(JAVA_BYTE, ctx);
        for (int i = 0; i < ctx; i++) {
            positions.setAtIndex(JAVA_INT, i, i);
            nSeqId.setAtIndex(JAVA_INT, i, 1);
            seqIdPtrs.setAtIndex(ADDRESS, i, seq0);
        }
        batch.set(ADDRESS, offset(BATCH, "token"), tokens);
        batch.set(ADDRESS, offset(BATCH, "embd"), MemorySegment.NULL);
        batch.set(ADDRESS, offset(BATCH, "pos"), positions);
        batch.set(ADDRESS, offset(BATCH, "n_seq_id"), nSeqId);
        batch.set(ADDRESS, offset(BATCH, "seq_id"), seqIdPtrs);
        batch.set(ADDRESS, offset(BATCH, "logits"), outputs);
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
    public void reset() {
        open();
        try {
            lib.memoryClear.invokeExact(memory, true);
        } catch (Throwable t) {
            throw new BackendException("llama.cpp failed to clear its KV cache: " + t, t);
        }
    }

    /**
     * One llama_decode of {@code ids[from, from + n)} at positions {@code from ..}; {@code allOutputs} asks for every
     * position's logits, else the last one's.
     */
    private void decodeBatch(int[] ids, int from, int n, boolean allOutputs) {
        for (int i = 0; i < n; i++) {
            tokens.setAtIndex(JAVA_INT, from + i, ids[from + i]);
            outputs.set(JAVA_BYTE, from + i, (byte) (allOutputs || i == n - 1 ? 1 : 0));
        }
        // the batch's arrays start at position `from`: the struct points into them there
        batch.set(JAVA_INT, offset(BATCH, "n_tokens"), n);
        batch.set(ADDRESS, offset(BATCH, "token"), tokens.asSlice(4L * from));
        batch.set(ADDRESS, offset(BATCH, "pos"), positions.asSlice(4L * from));
        batch.set(ADDRESS, offset(BATCH, "n_seq_id"), nSeqId.asSlice(4L * from));
        batch.set(ADDRESS, offset(BATCH, "seq_id"), seqIdPtrs.asSlice(ADDRESS.byteSize() * from));
        batch.set(ADDRESS, offset(BATCH, "logits"), outputs.asSlice(from));
        int rc;
        try {
            rc = (int) lib.decode.invokeExact(context, batch);
        } catch (Throwable t) {
            throw new BackendException("llama_decode failed: " + t, t);
        }
        if (rc != 0) {
            throw new BackendException("llama_decode returned " + rc + " for " + n + " tokens at position " + from
                    + ": " + LlamaCppLibrary.lastLog());
        }
    }

    @Override
    public void prefill(int[] prompt) {
        open();
        Prompts.check(prompt, ctx, vocab, "prefill");
        reset();
        decodeBatch(prompt, 0, prompt.length, false);
    }

    @Override
    public void decode(int[] ids) {
        open();
        Prompts.check(ids, ctx, vocab, "decode");
        reset();
        steps(0, ids);
    }

    @Override
    public Optional<String> cannotDecodeAfterPrompt() {
        return Optional.empty();
    }

    /** Steps at positions {@code start ..} on the cache a {@link #prefill} of {@code start} tokens left. */
    @Override
    public void decodeAfter(int start, int[] ids) {
        if (start == 0) {
            decode(ids);
            return;
        }
        open();
        Prompts.check(ids, ctx, vocab, "decode");
        if (start < 0 || ids.length > ctx - start) {
            throw new IllegalArgumentException("decode of " + ids.length + " steps after " + start
                    + " positions does not fit the context of " + ctx);
        }
        steps(start, ids);
    }

    /** One llama_decode per token of {@code ids}, at positions {@code start ..}, every step's logits asked for. */
    private void steps(int start, int[] ids) {
        int[] at = ids; // decodeBatch reads a position's token at its index
        if (start > 0) {
            at = new int[start + ids.length];
            System.arraycopy(ids, 0, at, start, ids.length);
        }
        for (int i = 0; i < ids.length; i++) {
            decodeBatch(at, start + i, 1, true);
        }
    }

    @Override
    public float[][] logits(int[] ids) {
        return logits(ids, 0);
    }

    @Override
    public float[][] logits(int[] ids, int firstRow) {
        open();
        Prompts.check(ids, ctx, vocab, "logits");
        reset();
        decodeBatch(ids, 0, ids.length, true);
        float[][] rows = new float[ids.length][];
        for (int i = Math.max(0, firstRow); i < ids.length; i++) {
            MemorySegment row;
            try {
                row = (MemorySegment) lib.getLogitsIth.invokeExact(context, i);
            } catch (Throwable t) {
                throw new BackendException("llama_get_logits_ith failed: " + t, t);
            }
            if (row.equals(MemorySegment.NULL)) {
                throw new BackendException("llama.cpp returned no logits for position " + i + ": "
                        + LlamaCppLibrary.lastLog());
            }
            rows[i] = row.reinterpret(4L * vocab).toArray(JAVA_FLOAT);
        }
        return rows;
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("this llama.cpp model is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            lib.free.invokeExact(context);
            lib.modelFree.invokeExact(model);
        } catch (Throwable t) {
            throw new BackendException("llama.cpp failed to free its model: " + t, t);
        } finally {
            arena.close();
        }
    }
}
