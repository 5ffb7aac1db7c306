package de.kherud.llama;

/**
 * Sets a prompt given as token ids. de.kherud:llama 4.2.0 only offers text prompts, but the llama.cpp server code
 * underneath accepts {@code "prompt": [ids...]}; the parameter map is package-private, hence this class in the
 * binding's package (works on the classpath, the jar is not sealed). Token ids rather than text, so that every
 * backend runs exactly the same tokens (a random prompt does not survive decode → encode).
 */
public final class TokenPrompts {
    private TokenPrompts() {
    }

    public static InferenceParameters withTokens(InferenceParameters p, int[] tokens) {
        StringBuilder s = new StringBuilder(tokens.length * 6).append('[');
        for (int i = 0; i < tokens.length; i++) {
            s.append(i == 0 ? "" : ",").append(tokens[i]);
        }
        p.parameters.put("prompt", s.append(']').toString());
        return p;
    }

    /** Whether a streamed output is the closing one (no token), a package-private field of the binding. */
    public static boolean isStop(LlamaOutput o) {
        return o.stop;
    }
}
