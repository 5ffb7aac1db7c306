package io.quantgate.runtime.model;

/** A plain fp64 Llama forward pass straight from the checkpoint floats, no shared code with LlamaModel. */
public final class Reference64 {
    final LlamaConfig c;
    final Llama2cCheckpoint ck;

    private final java.util.Map<String, float[]> cache = new java.util.HashMap<>();

    private float[] w(String name) {
        return cache.computeIfAbsent(name, ck::floats);
    }

    public Reference64(Llama2cCheckpoint ck) {
        this.ck = ck;
        this.c = ck.config();
    }

    public double[][] run(int[] tokens) {
        int dim = c.dim(), hs = c.headSize(), kvDim = c.kvDim(), hidden = c.hiddenDim();
        int L = c.nLayers(), T = tokens.length;
        float[] emb = w("embed");
        double[][][] kc = new double[L][T][kvDim];
        double[][][] vc = new double[L][T][kvDim];
        double[][] out = new double[T][];
        for (int pos = 0; pos < T; pos++) {
            double[] x = new double[dim];
            for (int i = 0; i < dim; i++) {
                x[i] = emb[tokens[pos] * dim + i];
            }
            for (int l = 0; l < L; l++) {
                String p = "layers." + l + ".";
                double[] xb = rms(x, w(p + "attn_norm"));
                double[] q = mv(w(p + "attn.q"), xb, dim);
                double[] k = mv(w(p + "attn.k"), xb, kvDim);
                double[] v = mv(w(p + "attn.v"), xb, kvDim);
                rope(q, pos);
                rope(k, pos);
                kc[l][pos] = k;
                vc[l][pos] = v;
                double[] att = new double[dim];
                for (int h = 0; h < c.nHeads(); h++) {
                    int kvh = h / (c.nHeads() / c.nKvHeads());
                    double[] s = new double[pos + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t = 0; t <= pos; t++) {
                        double d = 0;
                        for (int i = 0; i < hs; i++) {
                            d += q[h * hs + i] * kc[l][t][kvh * hs + i];
                        }
                        s[t] = d / Math.sqrt(hs);
                        max = Math.max(max, s[t]);
                    }
                    double sum = 0;
                    for (int t = 0; t <= pos; t++) {
                        s[t] = Math.exp(s[t] - max);
                        sum += s[t];
                    }
                    for (int t = 0; t <= pos; t++) {
                        for (int i = 0; i < hs; i++) {
                            att[h * hs + i] += s[t] / sum * vc[l][t][kvh * hs + i];
                        }
                    }
                }
                double[] o = mv(w(p + "attn.o"), att, dim);
                for (int i = 0; i < dim; i++) {
                    x[i] += o[i];
                }
                xb = rms(x, w(p + "mlp_norm"));
                double[] g = mv(w(p + "mlp.gate"), xb, hidden);
                double[] u = mv(w(p + "mlp.up"), xb, hidden);
                for (int i = 0; i < hidden; i++) {
                    g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                }
                double[] d = mv(w(p + "mlp.down"), g, dim);
                for (int i = 0; i < dim; i++) {
                    x[i] += d[i];
                }
            }
            out[pos] = mv(w("embed"), rms(x, w("norm")), c.vocabSize());
        }
        return out;
    }

    double[] rms(double[] x, float[] w) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + 1e-5);
        double[] o = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            o[i] = w[i] * x[i] * inv;
        }
        return o;
    }

    static double[] mv(float[] w, double[] x, int n) {
        double[] y = new double[n];
        for (int r = 0; r < n; r++) {
            double s = 0;
            for (int k = 0; k < x.length; k++) {
                s += w[r * x.length + k] * x[k];
            }
            y[r] = s;
        }
        return y;
    }

    /** Interleaved pairs with angle pos * 10000^(-2i/hs), computed in double. */
    void rope(double[] v, int pos) {
        int hs = c.headSize();
        for (int j = 0; j < v.length; j += 2) {
            int i = (j % hs) / 2;
            double a = pos * Math.pow(10000, -2.0 * i / hs);
            double x0 = v[j], x1 = v[j + 1];
            v[j] = x0 * Math.cos(a) - x1 * Math.sin(a);
            v[j + 1] = x0 * Math.sin(a) + x1 * Math.cos(a);
        }
    }
}
