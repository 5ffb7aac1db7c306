package io.quantgate.backend.external;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The requests of the external-process protocol, version {@value #VERSION} (docs/backends.md). */
final class Protocol {
    static final int VERSION = 1;

    private Protocol() {
    }

    static ObjectNode hello() {
        return op("hello").put("protocol", VERSION);
    }

    static ObjectNode load(String path, String format, String config, int ctx, int threads) {
        return op("load").put("path", path).put("format", format).put("config", config).put("ctx", ctx)
                .put("threads", threads);
    }

    static ObjectNode logits(int[] tokens, int firstRow) {
        ObjectNode o = op("logits");
        tokens(o.putArray("tokens"), tokens);
        return o.put("first_row", firstRow);
    }

    static ObjectNode benchPrefill(int[] prompt) {
        ObjectNode o = op("bench");
        tokens(o.putArray("prompt"), prompt);
        return o;
    }

    static ObjectNode benchDecode(int[] tokens) {
        ObjectNode o = op("bench");
        tokens(o.putArray("decode"), tokens);
        return o;
    }

    private static ObjectNode op(String name) {
        return ExternalEngine.JSON.createObjectNode().put("op", name);
    }

    private static void tokens(ArrayNode a, int[] tokens) {
        for (int t : tokens) {
            a.add(t);
        }
    }
}
