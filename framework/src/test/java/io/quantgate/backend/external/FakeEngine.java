package io.quantgate.backend.external;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantgate.evaluation.LlamaLogitsModel;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.gguf.GgufFile;
import io.quantgate.runtime.model.LlamaModel;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The test double of an external engine: a separate JVM speaking the protocol of docs/backends.md. Modes:
 * <ul>
 *   <li>{@code bigram}: a trivial model whose logits put 2.0 on token {@code (t + 1) % vocab} after token
 *       {@code t} and 0 elsewhere (so the perplexity of a text that follows that rule is {@code (e²+V−1)/e²});
 *       bench reports 1 ms per prompt token and 2 ms per decode step</li>
 *   <li>{@code quantgate}: a real engine: QuantGate's LlamaModel on the GGUF file it is given (fp32 config:
 *       the file already holds the quantized values), fp32 activations</li>
 *   <li>{@code liar}: like bigram, but every bench request takes 50 ms while the reply claims a microsecond (the
 *       harness must time the call, not believe the engine)</li>
 *   <li>{@code crash-on-load}, {@code error-on-load}, {@code malformed-logits}, {@code hang-on-bench},
 *       {@code no-logits}, {@code safetensors-only}: the failures and variants the tests provoke</li>
 * </ul>
 */
public final class FakeEngine {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "bigram";
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(System.err); // anything else printed must not corrupt the protocol stream
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        int vocab = 0;
        LlamaModel model = null;
        String line;
        while ((line = in.readLine()) != null) {
            JsonNode req = JSON.readTree(line);
            ObjectNode reply = JSON.createObjectNode().put("ok", true);
            switch (req.path("op").asText()) {
                case "hello" -> {
                    reply.put("engine", "fake-" + mode + " 1.0").put("logits", !mode.equals("no-logits"));
                    reply.putArray("accepts").add(mode.equals("safetensors-only") ? "safetensors" : "gguf");
                }
                case "load" -> {
                    if (mode.equals("crash-on-load")) {
                        System.err.println("simulated crash while loading " + req.path("path").asText());
                        System.exit(3);
                    }
                    if (mode.equals("error-on-load")) {
                        reply = JSON.createObjectNode().put("ok", false).put("error", "out of memory");
                        break;
                    }
                    if (mode.equals("safetensors-only")) {
                        vocab = io.quantgate.runtime.safetensors.HuggingFaceModel.open(Path.of(req.path("path").asText()))
                                .config().vocabSize();
                    } else {
                        GgufFile f = GgufFile.open(Path.of(req.path("path").asText()));
                        vocab = f.config().vocabSize();
                        if (mode.equals("quantgate")) {
                            model = LlamaModel.load(f, "fp32", ActivationMode.FP32);
                        }
                    }
                    reply.put("vocab", vocab);
                }
                case "logits" -> {
                    if (mode.equals("malformed-logits")) {
                        out.println("this is not json");
                        continue;
                    }
                    int[] tokens = JSON.treeToValue(req.get("tokens"), int[].class);
                    int first = req.path("first_row").asInt();
                    ArrayNode rows = reply.putArray("rows");
                    float[][] real = model != null ? new LlamaLogitsModel(model).logits(tokens, first) : null;
                    for (int i = first; i < tokens.length; i++) {
                        ArrayNode row = rows.addArray();
                        for (int v = 0; v < vocab; v++) {
                            row.add(real != null ? real[i][v] : v == (tokens[i] + 1) % vocab ? 2.0f : 0.0f);
                        }
                    }
                }
                case "bench" -> {
                    if (mode.equals("hang-on-bench")) {
                        Thread.sleep(600_000);
                    }
                    if (mode.equals("liar")) {
                        Thread.sleep(50);
                        reply.put("prefill_seconds", 1e-6).put("decode_seconds", 1e-6);
                    } else if (req.has("prompt")) {
                        reply.put("prefill_seconds", 0.001 * req.get("prompt").size());
                    }
                    if (req.has("decode") && !mode.equals("liar")) {
                        reply.put("decode_seconds", 0.002 * req.get("decode").size());
                    }
                }
                case "close" -> {
                    out.println(reply);
                    return;
                }
                default -> reply = JSON.createObjectNode().put("ok", false).put("error", "unknown op " + req.path("op"));
            }
            out.println(reply);
        }
    }
}
