package io.quantgate.evaluation;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;

/** Synthetic {@link LogitsModel}s for the evaluation tests. */
final class TestModels {

    private TestModels() {
    }

    /** Base class that records a copy of every input sequence. */
    abstract static class Recording implements LogitsModel {
        final int vocab;
        final List<int[]> inputs = new ArrayList<>();

        Recording(int vocab) {
            this.vocab = vocab;
        }

        @Override
        public final float[][] logits(int[] tokens) {
            inputs.add(tokens.clone());
            float[][] out = new float[tokens.length][];
            for (int i = 0; i < tokens.length; i++) {
                out[i] = row(tokens, i);
            }
            return out;
        }

        abstract float[] row(int[] tokens, int i);

        @Override
        public int vocabSize() {
            return vocab;
        }
    }

    /**
     * {@code model} as a {@link SegmentLogitsModel}: its rows from {@code firstRow} packed into one native segment per
     * call ({@code rowBytes} overrides the size of the segment, to test the evaluator's check; -1: the right size).
     */
    static SegmentLogitsModel inPlace(LogitsModel model, long rowBytes) {
        return new SegmentLogitsModel() {
            @Override
            public MemorySegment logitsSegment(int[] tokens, int firstRow) {
                float[][] rows = model.logits(tokens, firstRow);
                int v = model.vocabSize();
                MemorySegment out = Arena.ofAuto().allocate(
                        rowBytes >= 0 ? rowBytes : 4L * (tokens.length - firstRow) * v, 4);
                for (int t = firstRow; t < tokens.length && 4L * (t - firstRow + 1) * v <= out.byteSize(); t++) {
                    MemorySegment.copy(rows[t], 0, out, ValueLayout.JAVA_FLOAT, 4L * (t - firstRow) * v, v);
                }
                return out;
            }

            @Override
            public float[][] logits(int[] tokens) {
                throw new AssertionError("the evaluator must read the rows in place");
            }

            @Override
            public int vocabSize() {
                return model.vocabSize();
            }
        };
    }

    /**
     * {@code model} as a {@link ConcurrentLogitsModel} of {@code threads}: each sequence hands over the model's rows in
     * place (as {@link #inPlace}), after a pause that depends on the input, so that windows finish out of order; calls
     * into {@code model} are serialized (the recording models are not thread-safe). Records on which thread every
     * sequence was opened, used and closed.
     */
    static Concurrent concurrent(LogitsModel model, int threads) {
        return new Concurrent(model, threads, true);
    }

    /** {@link #concurrent}, its sequences answering with arrays (what a comparison reads). */
    static Concurrent concurrentArrays(LogitsModel model, int threads) {
        return new Concurrent(model, threads, false);
    }

    static final class Concurrent implements ConcurrentLogitsModel {
        final LogitsModel model;
        final int threads;
        final boolean inPlace;
        final java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger closed = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger wrongThread = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.Set<Thread> users = java.util.concurrent.ConcurrentHashMap.newKeySet();

        Concurrent(LogitsModel model, int threads, boolean inPlace) {
            this.model = model;
            this.threads = threads;
            this.inPlace = inPlace;
        }

        @Override
        public int concurrency() {
            return threads;
        }

        @Override
        public Sequence openSequence() {
            Thread owner = Thread.currentThread();
            opened.incrementAndGet();
            users.add(owner);
            return inPlace ? new InPlaceSequence(owner) : new ArraySequence(owner);
        }

        /** A sequence that answers with arrays, on its own thread, after a pause that depends on the input. */
        class ArraySequence implements Sequence {
            final Thread owner;

            ArraySequence(Thread owner) {
                this.owner = owner;
            }

            void onOwnThreadAfterAPause(int[] tokens) {
                if (Thread.currentThread() != owner) {
                    wrongThread.incrementAndGet();
                }
                try {
                    Thread.sleep(0, 1000 * Math.floorMod(java.util.Arrays.hashCode(tokens), 300));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public float[][] logits(int[] tokens) {
                return logits(tokens, 0);
            }

            @Override
            public float[][] logits(int[] tokens, int firstRow) {
                onOwnThreadAfterAPause(tokens);
                synchronized (Concurrent.this) {
                    return model.logits(tokens, firstRow);
                }
            }

            @Override
            public int vocabSize() {
                return model.vocabSize();
            }

            @Override
            public void close() {
                if (Thread.currentThread() != owner) {
                    wrongThread.incrementAndGet();
                }
                closed.incrementAndGet();
            }
        }

        /** A sequence that hands over its rows in place (and refuses arrays: the evaluator must read them in place). */
        final class InPlaceSequence extends ArraySequence implements SegmentLogitsModel {
            InPlaceSequence(Thread owner) {
                super(owner);
            }

            @Override
            public MemorySegment logitsSegment(int[] tokens, int firstRow) {
                onOwnThreadAfterAPause(tokens);
                synchronized (Concurrent.this) {
                    return inPlace(model, -1).logitsSegment(tokens, firstRow);
                }
            }

            @Override
            public float[][] logits(int[] tokens, int firstRow) {
                throw new AssertionError("the evaluator must read the rows in place");
            }
        }

        @Override
        public float[][] logits(int[] tokens) {
            return model.logits(tokens);
        }

        @Override
        public int vocabSize() {
            return model.vocabSize();
        }
    }

    /** All logits equal: every token has probability 1/V. */
    static Recording uniform(int vocab) {
        return new Recording(vocab) {
            @Override
            float[] row(int[] tokens, int i) {
                return new float[vocab];
            }
        };
    }

    /** The same logits row at every position. */
    static Recording constant(float... row) {
        return new Recording(row.length) {
            @Override
            float[] row(int[] tokens, int i) {
                return row.clone();
            }
        };
    }

    /**
     * Knows the rule {@code next} that generated the stream and puts probability p on
     * {@code next(token at i)}, the rest spread evenly. Returns the logit it uses so that tests can
     * compute the exact probability the float logits encode.
     */
    static final class Oracle extends Recording {
        final IntUnaryOperator next;
        final float hit;

        Oracle(int vocab, double p, IntUnaryOperator next) {
            super(vocab);
            this.next = next;
            this.hit = (float) Math.log(p * (vocab - 1) / (1 - p));
        }

        /** Probability actually encoded by the float logits (hit vs zeros). */
        double exactP() {
            double e = Math.exp(hit);
            return e / (e + vocab - 1);
        }

        @Override
        float[] row(int[] tokens, int i) {
            float[] r = new float[vocab];
            r[next.applyAsInt(tokens[i])] = hit;
            return r;
        }
    }

    /** A stream that starts with {@code bos} and follows {@code next}. */
    static int[] ruleStream(int n, int bos, IntUnaryOperator next) {
        int[] t = new int[n];
        t[0] = bos;
        for (int i = 1; i < n; i++) {
            t[i] = next.applyAsInt(t[i - 1]);
        }
        return t;
    }

    /** BOS then tokens uniformly random in [lo, vocab). */
    static int[] randomStream(int n, int bos, int lo, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        t[0] = bos;
        for (int i = 1; i < n; i++) {
            t[i] = lo + r.nextInt(vocab - lo);
        }
        return t;
    }

    /**
     * A model whose confidence depends strongly on the chunk: the logits at position i are
     * {@code scale · W[token_i]} with a per-chunk scale read from the token at window position 1,
     * plus {@code eps · E[token_i]} (a fixed perturbation). eps = 0 is the "base" model.
     */
    static Recording chunkDifficulty(int vocab, double eps, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] w = new float[vocab][vocab];
        float[][] e = new float[vocab][vocab];
        for (int a = 0; a < vocab; a++) {
            for (int b = 0; b < vocab; b++) {
                w[a][b] = (float) (r.nextDouble() * 2 - 1);
                e[a][b] = (float) (r.nextDouble() * 2 - 1);
            }
        }
        return new Recording(vocab) {
            @Override
            float[] row(int[] tokens, int i) {
                double scale = 0.25 + 2.5 * (tokens[1] % 4);
                float[] out = new float[vocab];
                for (int v = 0; v < vocab; v++) {
                    out[v] = (float) (scale * w[tokens[i]][v] + eps * e[tokens[i]][v]);
                }
                return out;
            }
        };
    }
}
