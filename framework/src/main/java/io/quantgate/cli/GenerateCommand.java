package io.quantgate.cli;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.Generator;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code quantgate generate}: greedy decoding from a prompt (BOS first). */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Greedy generation from a prompt.")
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "PATH|synthetic:SPEC", description = "the model")
    String model;

    @Option(names = "--tokenizer", paramLabel = "PATH", description = "tokenizer file (default: the model's own)")
    Path tokenizer;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "", description = "the prompt (default empty)")
    String prompt;

    @Option(names = "-n", paramLabel = "N", defaultValue = "64", description = "new tokens (default ${DEFAULT-VALUE}); "
            + "stops early at EOS")
    int n;

    @Option(names = "--config", paramLabel = "ID", converter = Converters.Config.class, defaultValue = "fp32",
            description = "quantization of the model (default ${DEFAULT-VALUE})")
    QuantizationConfig config;

    @Option(names = "--activations", paramLabel = "A", converter = Converters.Activations.class, defaultValue = "fp32",
            description = "fp32 (default), int8 or bf16")
    ActivationMode activations;

    @Override
    public Integer call() {
        if (n < 1) {
            throw new IllegalArgumentException("-n must be >= 1, got " + n);
        }
        try (ModelWeights weights = ModelFiles.open(model)) {
            Tokenizer tok = ModelFiles.tokenizer(weights, tokenizer == null ? null : tokenizer.toString());
            try (LlamaModel m = new LlamaModel(weights, config, activations, LlamaModel.DEFAULT_MAX_BATCH)) {
                int[] promptIds = tok.encode(prompt, true);
                long t0 = System.nanoTime();
                int[] generated = new Generator(m, tok).generate(promptIds, n);
                double s = (System.nanoTime() - t0) / 1e9;
                int[] ids = java.util.Arrays.copyOf(promptIds, promptIds.length + generated.length);
                System.arraycopy(generated, 0, ids, promptIds.length, generated.length);
                spec.commandLine().getOut().println(tok.decode(ids));
                spec.commandLine().getOut().flush();
                spec.commandLine().getErr().printf(Locale.ROOT, "%d prompt + %d generated tokens in %.2f s (%.1f tok/s), "
                        + "config %s%n", promptIds.length, generated.length, s, (promptIds.length + generated.length) / s,
                        config.label());
            }
        }
        return 0;
    }
}
