package io.quantgate.backend.javavector;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.runtime.model.LlamaConfig;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.QuantizedWeights;
import io.quantgate.runtime.model.Rope;
import io.quantgate.runtime.model.TensorNames;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.Arena;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * A Llama decoder in plain Java with the Vector API: the straightforward engine a user without native code would
 * write (in the spirit of llama3.java), on QuantGate's own quantized codes ({@link QuantizedWeights#quantized}), so
 * it runs exactly the weights the native kernels run. fp32 activations, heap arrays, a KV cache of
 * {@code [layer][pos][kvDim]}; prefill is one GEMM per linear over the chunk. Not tuned beyond that, on purpose.
 * Llama/Mistral layouts only (no Qwen2 biases or Qwen3 q/k norms). Not thread-safe.
 */
final class JavaVectorModel implements AutoCloseable {
    private final LlamaConfig c;
    private final int ctx;
    private final ForkJoinPool pool;
    private final Rope rope;
    private final float[] embed;
    private final float[][] attNorm, ffnNorm;
    private final float[] finalNorm;
    private final VectorLinear[] wq, wk, wv, wo, w1, w2, w3;
    private final VectorLinear classifier;
    private final float[][] keys, values; // [layer][pos * kvDim]
    private final Arena arena = Arena.ofShared();

    JavaVectorModel(ModelWeights weights, QuantizationConfig config, int ctx, int threads) {
        this.c = weights.config();
        this.ctx = ctx;
        this.pool = new ForkJoinPool(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
        this.rope = new Rope(c.headSize(), ctx, c.ropeTheta(), c.ropeScaling(), c.ropeStyle());
        try {
            QuantizedWeights q = new QuantizedWeights(weights, config);
            int layers = c.nLayers();
            embed = weights.floats(TensorNames.EMBED);
            attNorm = new float[layers][];
            ffnNorm = new float[layers][];
            wq = new VectorLinear[layers];
            wk = new VectorLinear[layers];
            wv = new VectorLinear[layers];
            wo = new VectorLinear[layers];
            w1 = new VectorLinear[layers];
            w2 = new VectorLinear[layers];
            w3 = new VectorLinear[layers];
            for (int l = 0; l < layers; l++) {
                attNorm[l] = weights.floats(TensorNames.layer(l, TensorNames.ATTN_NORM));
                ffnNorm[l] = weights.floats(TensorNames.layer(l, TensorNames.MLP_NORM));
                wq[l] = linear(q, TensorNames.layer(l, TensorNames.Q));
                wk[l] = linear(q, TensorNames.layer(l, TensorNames.K));
                wv[l] = linear(q, TensorNames.layer(l, TensorNames.V));
                wo[l] = linear(q, TensorNames.layer(l, TensorNames.O));
                w1[l] = linear(q, TensorNames.layer(l, TensorNames.GATE));
                w2[l] = linear(q, TensorNames.layer(l, TensorNames.DOWN));
                w3[l] = linear(q, TensorNames.layer(l, TensorNames.UP));
            }
            finalNorm = weights.floats(TensorNames.NORM);
            // a tied classifier that the config leaves in fp32 stays tied (no lm_head tensor): it is the embedding
            classifier = q.has(TensorNames.LM_HEAD) ? linear(q, TensorNames.LM_HEAD)
                    : new VectorLinear(io.quantgate.kernels.format.GroupQuantizer.quantize(
                    io.quantgate.kernels.format.ConfigId.of(io.quantgate.kernels.format.WeightFormat.FP32),
                    c.vocabSize(), c.dim(), embed, arena, TensorNames.LM_HEAD));
            keys = new float[layers][ctx * c.kvDim()];
            values = new float[layers][ctx * c.kvDim()];
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private VectorLinear linear(QuantizedWeights q, String name) {
        return new VectorLinear(q.quantized(name, arena));
    }

    LlamaConfig config() {
        return c;
    }

    int contextLength() {
        return ctx;
    }

    /** Logits of rows {@code firstRow ..} of {@code tokens} at positions {@code start ..} (earlier rows null). */
    float[][] forward(int[] tokens, int start, int firstRow) {
        int t = tokens.length, dim = c.dim(), kvDim = c.kvDim(), qDim = c.qDim(), hidden = c.hiddenDim();
        if (start + t > ctx) {
            throw new IllegalArgumentException(t + " tokens at position " + start + " exceed the context of " + ctx);
        }
        float[] x = new float[t * dim];
        for (int i = 0; i < t; i++) {
            System.arraycopy(embed, tokens[i] * dim, x, i * dim, dim);
        }
        float[] xb = new float[t * dim], q = new float[t * qDim], k = new float[t * kvDim], v = new float[t * kvDim];
        float[] att = new float[t * qDim], delta = new float[t * dim], h1 = new float[t * hidden], h3 = new float[t * hidden];
        for (int l = 0; l < c.nLayers(); l++) {
            rmsnorm(xb, x, attNorm[l], t, dim);
            wq[l].gemm(xb, t, q, pool);
            wk[l].gemm(xb, t, k, pool);
            wv[l].gemm(xb, t, v, pool);
            for (int i = 0; i < t; i++) {
                rope.rotate(q, i * qDim, c.nHeads(), start + i);
                rope.rotate(k, i * kvDim, c.nKvHeads(), start + i);
                System.arraycopy(k, i * kvDim, keys[l], (start + i) * kvDim, kvDim);
                System.arraycopy(v, i * kvDim, values[l], (start + i) * kvDim, kvDim);
            }
            attention(l, q, att, t, start);
            wo[l].gemm(att, t, delta, pool);
            add(x, delta);
            rmsnorm(xb, x, ffnNorm[l], t, dim);
            w1[l].gemm(xb, t, h1, pool);
            w3[l].gemm(xb, t, h3, pool);
            for (int i = 0; i < h1.length; i++) {
                float g = h1[i];
                h1[i] = g / (1f + (float) Math.exp(-g)) * h3[i];
            }
            w2[l].gemm(h1, t, delta, pool);
            add(x, delta);
        }
        int rows = t - firstRow;
        float[] xn = new float[rows * dim];
        float[] tail = new float[rows * dim];
        System.arraycopy(x, firstRow * dim, tail, 0, rows * dim);
        rmsnorm(xn, tail, finalNorm, rows, dim);
        int vocab = c.vocabSize();
        float[] logits = new float[rows * vocab];
        classifier.gemm(xn, rows, logits, pool);
        float[][] out = new float[t][];
        for (int i = 0; i < rows; i++) {
            out[firstRow + i] = java.util.Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab);
        }
        return out;
    }

    private void attention(int l, float[] q, float[] out, int t, int start) {
        int hs = c.headSize(), qDim = c.qDim(), kvDim = c.kvDim(), heads = c.nHeads();
        int perKv = heads / c.nKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] kc = keys[l], vc = values[l];
        pool.submit(() -> IntStream.range(0, t * heads).parallel().forEach(task -> {
            int i = task / heads, h = task % heads, pos = start + i, kvOff = (h / perKv) * hs, qOff = i * qDim + h * hs;
            float[] s = new float[pos + 1];
            float max = Float.NEGATIVE_INFINITY;
            for (int p = 0; p <= pos; p++) {
                s[p] = dot(q, qOff, kc, p * kvDim + kvOff, hs) * scale;
                max = Math.max(max, s[p]);
            }
            float sum = 0;
            for (int p = 0; p <= pos; p++) {
                s[p] = (float) Math.exp(s[p] - max);
                sum += s[p];
            }
            int o = i * qDim + h * hs;
            java.util.Arrays.fill(out, o, o + hs, 0f);
            for (int p = 0; p <= pos; p++) {
                float a = s[p] / sum;
                int vo = p * kvDim + kvOff;
                for (int d = 0; d < hs; d++) {
                    out[o + d] += a * vc[vo + d];
                }
            }
        })).join();
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int n) {
        var f = VectorLinear.F;
        FloatVector acc = FloatVector.zero(f);
        int i = 0;
        for (; i + f.length() <= n; i += f.length()) {
            acc = FloatVector.fromArray(f, a, ao + i).fma(FloatVector.fromArray(f, b, bo + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    private void rmsnorm(float[] out, float[] x, float[] w, int t, int dim) {
        for (int i = 0; i < t; i++) {
            int o = i * dim;
            float ss = 0;
            for (int d = 0; d < dim; d++) {
                ss += x[o + d] * x[o + d];
            }
            float inv = (float) (1.0 / Math.sqrt(ss / dim + c.normEps()));
            for (int d = 0; d < dim; d++) {
                out[o + d] = w[d] * (x[o + d] * inv);
            }
        }
    }

    private static void add(float[] x, float[] d) {
        for (int i = 0; i < x.length; i++) {
            x[i] += d[i];
        }
    }

    /** Bytes of weights one decode step reads (all linears' packed bytes and one embedding row). */
    long weightBytesPerToken() {
        long b = classifier.packedBytes() + 4L * c.dim();
        for (int l = 0; l < c.nLayers(); l++) {
            b += wq[l].packedBytes() + wk[l].packedBytes() + wv[l].packedBytes() + wo[l].packedBytes()
                    + w1[l].packedBytes() + w2[l].packedBytes() + w3[l].packedBytes();
        }
        return b;
    }

    @Override
    public void close() {
        pool.shutdownNow();
        arena.close();
    }
}
