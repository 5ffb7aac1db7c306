package io.quantgate.backend.llamacpp;

import de.kherud.llama.InferenceParameters;

import java.lang.reflect.Field;
import java.util.Map;

/**
 * Sets a prompt given as token ids. de.kherud:llama 4.2.0 only offers text prompts, but the llama.cpp server code
 * underneath accepts {@code "prompt": [ids...]} in the request's parameter map, which the binding keeps in a
 * package-private field; it is reached here by reflection (the binding is on the class path, an unnamed module, so
 * the field can be made accessible) rather than by a class placed inside the binding's package. Token ids rather than
 * text, so that every backend runs exactly the same tokens (a random prompt does not survive decode → encode).
 */
final class TokenPrompts {
    private static final Field PARAMETERS = parametersField();

    private TokenPrompts() {
    }

    private static Field parametersField() {
        try {
            Field f = Class.forName("de.kherud.llama.JsonParameters").getDeclaredField("parameters");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("de.kherud:llama changed: its request parameters cannot be set as token ids ("
                    + e + ")", e);
        }
    }

    @SuppressWarnings("unchecked")
    static InferenceParameters withTokens(InferenceParameters p, int[] tokens) {
        StringBuilder s = new StringBuilder(tokens.length * 6).append('[');
        for (int i = 0; i < tokens.length; i++) {
            s.append(i == 0 ? "" : ",").append(tokens[i]);
        }
        try {
            ((Map<String, String>) PARAMETERS.get(p)).put("prompt", s.append(']').toString());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot set a token prompt on de.kherud:llama: " + e, e);
        }
        return p;
    }
}
