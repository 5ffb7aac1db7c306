package io.quantgate.runtime.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Rotary position embedding: per position {@code pos} and pair index {@code i < headSize/2} the angle
 * {@code pos · theta^(-2i/headSize)} (scaled as the config's {@link LlamaConfig.RopeScaling} says). The cos/sin tables are computed once in double and stored as float.
 *
 * <p>{@link LlamaConfig.RopeStyle#INTERLEAVED} rotates {@code (x[2i], x[2i+1])} (llama2.c, Meta);
 * {@link LlamaConfig.RopeStyle#ROTATE_HALF} rotates {@code (x[i], x[i+headSize/2])} (Hugging Face).
 */
public final class Rope {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final LlamaConfig.RopeStyle style;
    private final int headSize;
    private final int half;
    private final float[] cos; // [seqLen][half]
    private final float[] sin;

    public Rope(int headSize, int seqLen, float theta, LlamaConfig.RopeStyle style) {
        this(headSize, seqLen, theta, LlamaConfig.RopeScaling.NONE, style);
    }

    public Rope(int headSize, int seqLen, float theta, LlamaConfig.RopeScaling scaling, LlamaConfig.RopeStyle style) {
        if (headSize <= 0 || headSize % 2 != 0) {
            throw new IllegalArgumentException("head size must be positive and even, got " + headSize);
        }
        this.style = style;
        this.headSize = headSize;
        this.half = headSize / 2;
        this.cos = new float[seqLen * half];
        this.sin = new float[seqLen * half];
        for (int pos = 0; pos < seqLen; pos++) {
            for (int i = 0; i < half; i++) {
                double freq = scaling.scale(Math.pow(theta, -2.0 * i / headSize));
                double angle = pos * freq;
                cos[pos * half + i] = (float) Math.cos(angle);
                sin[pos * half + i] = (float) Math.sin(angle);
            }
        }
    }

    public Rope(LlamaConfig c) {
        this(c.headSize(), c.seqLen(), c.ropeTheta(), c.ropeScaling(), c.ropeStyle());
    }

    public float cos(int pos, int i) {
        return cos[pos * half + i];
    }

    public float sin(int pos, int i) {
        return sin[pos * half + i];
    }

    /** Rotates {@code nHeads} consecutive heads of {@code headSize} floats starting at float index {@code base}. */
    public void rotate(MemorySegment x, long base, int nHeads, int pos) {
        int t = pos * half;
        for (int h = 0; h < nHeads; h++) {
            long o = base + (long) h * headSize;
            if (style == LlamaConfig.RopeStyle.INTERLEAVED) {
                for (int i = 0; i < half; i++) {
                    float c = cos[t + i], s = sin[t + i];
                    float a = x.getAtIndex(F, o + 2 * i), b = x.getAtIndex(F, o + 2 * i + 1);
                    x.setAtIndex(F, o + 2 * i, a * c - b * s);
                    x.setAtIndex(F, o + 2 * i + 1, a * s + b * c);
                }
            } else {
                for (int i = 0; i < half; i++) {
                    float c = cos[t + i], s = sin[t + i];
                    float a = x.getAtIndex(F, o + i), b = x.getAtIndex(F, o + i + half);
                    x.setAtIndex(F, o + i, a * c - b * s);
                    x.setAtIndex(F, o + i + half, a * s + b * c);
                }
            }
        }
    }

    /** Heap-array variant of {@link #rotate(MemorySegment, long, int, int)} for tests and tools. */
    public void rotate(float[] x, int base, int nHeads, int pos) {
        MemorySegment seg = MemorySegment.ofArray(x);
        // heap segments use the same index arithmetic; JAVA_FLOAT requires 4-byte alignment, which float[] has
        rotate(seg, base, nHeads, pos);
    }
}
