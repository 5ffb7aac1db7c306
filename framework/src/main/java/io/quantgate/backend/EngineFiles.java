package io.quantgate.backend;

import io.quantgate.runtime.gguf.GgufExport;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.gguf.GgmlType;
import io.quantgate.runtime.gguf.GgufVocabulary;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.QuantizedWeights;
import io.quantgate.runtime.safetensors.HuggingFaceWriter;
import io.quantgate.runtime.tokenizer.Tokenizer;
import io.quantgate.runtime.tokenizer.Tokenizers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The files QuantGate writes so that another engine runs the very same weights, and the honest statement of
 * what each file holds. GGUF: {@code fp32} → F32, {@code fp16} → F16, {@code int8-g32} → Q8_0 and {@code int4s-g32}
 * → Q4_0 with QuantGate's own codes and fp16 scales (bit-exact); a linear whose K is not a multiple of 32 cannot
 * be a ggml block and is stored as F32 of the same dequantized values, which the description counts. Every other
 * id has no GGUF type that holds it exactly, so it cannot run (no F32 stand-in under its label).
 * Safetensors: {@code fp32}/{@code fp16}/{@code bf16} → F32/F16/BF16, exact; quantized ids cannot run.
 */
public final class EngineFiles {
    /** Property naming the tokenizer whose vocabulary a GGUF file carries when the model has none of its own. */
    public static final String TOKENIZER = "tokenizer";

    private EngineFiles() {
    }

    /** Why {@code configId} cannot be written as GGUF exactly, or empty when it can. */
    public static Optional<String> ggufCannotHold(ModelWeights weights, QuantizationConfig config) {
        String configId = config.label();
        QuantizationConfig quant = config;
        Optional<String> blocked = io.quantgate.runtime.model.CalibratedWeights.missingCalibration(weights, quant)
                .or(() -> io.quantgate.runtime.model.CalibratedWeights.notExportable(quant));
        if (blocked.isPresent()) {
            return blocked;
        }
        QuantizedWeights q = new QuantizedWeights(weights, quant);
        for (String name : q.shapes().keySet()) {
            Optional<ConfigId> id = q.idFor(name);
            if (id.isPresent() && !ggufExact(id.get())) {
                return Optional.of("GGUF has no type that holds " + id.get() + " exactly (" + why(id.get())
                        + "); writing its dequantized values as F32 would run a different format under its label");
            }
        }
        return Optional.empty();
    }

    private static boolean ggufExact(ConfigId id) {
        return switch (id.format()) {
            case FP32, FP16 -> true;
            case INT8, INT4S -> id.group() == 32;
            default -> false;
        };
    }

    private static String why(ConfigId id) {
        return switch (id.format()) {
            case INT8 -> "Q8_0 is int8 with one fp16 scale per 32 weights: only int8-g32 maps to it";
            case INT4S -> "Q4_0 is symmetric 4-bit with one fp16 scale per 32 weights: only int4s-g32 maps to it";
            case INT4 -> "Q4_1 stores an fp16 minimum, not a 4-bit zero code, and Q4_K uses 6-bit sub-block scales";
            case BF16 -> "QuantGate's GGUF writer does not write BF16";
            case FP4, NF4 -> "ggml has no " + id.format().name().toLowerCase(Locale.ROOT) + " type of this layout";
            default -> "no matching ggml type";
        };
    }

    /** What a GGUF file of {@code configId} holds, e.g. "GGUF Q4_0 from int4s-g32 (bit-exact ...)". */
    public static String ggufDescription(ModelWeights weights, QuantizationConfig config) {
        String configId = config.label();
        QuantizedWeights q = new QuantizedWeights(weights, config);
        Map<String, Integer> byType = new TreeMap<>();
        int f32Fallback = 0;
        boolean blocks = false;
        for (String name : q.shapes().keySet()) {
            Optional<ConfigId> id = q.idFor(name);
            if (id.isEmpty()) {
                continue;
            }
            GgmlType t = GgufExport.typeFor(q, name);
            byType.merge(t.name(), 1, Integer::sum);
            WeightFormat f = id.get().format();
            blocks |= t == GgmlType.Q8_0 || t == GgmlType.Q4_0;
            if (t == GgmlType.F32 && f != WeightFormat.FP32) {
                f32Fallback++;
            }
        }
        StringBuilder s = new StringBuilder("GGUF ");
        s.append(byType.size() == 1 ? byType.keySet().iterator().next() : byType.toString())
                .append(" from ").append(configId)
                .append(blocks ? " (bit-exact: QuantGate's codes and fp16 scales" : " (exact values");
        if (f32Fallback > 0) {
            s.append("; ").append(f32Fallback).append(" linear(s) with K % 32 != 0 as F32 of the same values");
        }
        return s.append(")").toString();
    }

    /**
     * The GGUF file of {@code configId}, written under the work directory unless an identical one (same model,
     * same config) is already there; it carries the model's vocabulary, or that of the tokenizer named by the
     * {@value #TOKENIZER} property.
     */
    public static Path gguf(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        String configId = config.label();
        ggufCannotHold(weights, config).ifPresent(r -> {
            throw new IllegalArgumentException("cannot write " + configId + " of " + weights.source() + " as GGUF: " + r);
        });
        Path file = target(weights, config, options, ".gguf");
        if (Files.isRegularFile(file)) {
            return file;
        }
        String tokPath = options.property(TOKENIZER, null);
        Optional<Tokenizer> tok = tokPath != null ? Optional.of(ModelFiles.tokenizer(weights, tokPath))
                : ModelFiles.findTokenizer(weights);
        Map<String, Object> meta = tok.map(GgufVocabulary::metadata).orElse(Map.of());
        GgufExport.write(new QuantizedWeights(weights, config), file, meta);
        return file;
    }

    /** The safetensors dtype that holds {@code configId} exactly: F32, F16 or BF16; empty for quantized ids. */
    public static Optional<String> safetensorsDtype(QuantizationConfig config) {
        String configId = config.label();
        QuantizationConfig quant = config;
        if (!(quant instanceof QuantizationConfig.Uniform u) || u.rotates()) {
            return Optional.empty(); // a rotated dense model is not the file's weights: no engine but ours runs it
        }
        return switch (u.id().format()) {
            case FP32 -> Optional.of("F32");
            case FP16 -> Optional.of("F16");
            case BF16 -> Optional.of("BF16");
            default -> Optional.empty();
        };
    }

    /** The Hugging Face directory of a dense {@code configId}, written unless already there. */
    public static Path safetensors(ModelWeights weights, QuantizationConfig config, BackendOptions options) {
        String configId = config.label();
        String dtype = safetensorsDtype(config).orElseThrow(() -> new IllegalArgumentException(
                "cannot write " + configId + " as safetensors exactly: only fp32, fp16 and bf16 have a safetensors dtype"));
        Path dir = target(weights, config, options, "-hf");
        if (Files.isRegularFile(dir.resolve("config.json"))) {
            return dir; // config.json is written last, atomically: its presence means a complete directory
        }
        HuggingFaceWriter.write(new QuantizedWeights(weights, config), dir, dtype,
                Map.of("quantgate.config", configId, "quantgate.source", weights.source().toString()));
        return dir;
    }

    /** {@code workDir/<model name>-<hash of source, size, mtime>-<config><suffix>}. */
    static Path target(ModelWeights weights, QuantizationConfig config, BackendOptions options, String suffix) {
        String configId = config.label();
        String src = weights.source().toString();
        String stamp = src;
        Path p = weights.source();
        try {
            if (Files.exists(p)) {
                stamp += "|" + Files.size(p) + "|" + Files.getLastModifiedTime(p).toMillis();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
        String hash;
        try {
            hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(stamp.getBytes(StandardCharsets.UTF_8)), 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        String base = p.getFileName() == null ? "model" : p.getFileName().toString();
        String name = (base + "-" + hash + "-" + configId).replaceAll("[^A-Za-z0-9._-]", "_") + suffix;
        try {
            Files.createDirectories(options.workDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the work directory " + options.workDir(), e);
        }
        return options.workDir().resolve(name);
    }
}
