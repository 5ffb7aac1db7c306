package io.quantgate.cli;

import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.runtime.ModelFiles;
import io.quantgate.runtime.model.Generator;
import io.quantgate.runtime.model.LlamaModel;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Set;

/** {@code quantgate generate}: greedy decoding from a prompt (BOS first), printed as it is produced. */
final class GenerateCommand {
    static final String USAGE = """
            usage: quantgate generate --model PATH [--tokenizer PATH] --prompt TEXT [-n 64] [options]
              --config ID           quantization of the model (default fp32)
              --activations A       fp32 (default) or int8
              -n N                  new tokens (default 64); stops early at EOS
            """;

    private GenerateCommand() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        CliArgs a = new CliArgs("generate", args, Set.of("--model", "--tokenizer", "--prompt", "-n", "--config",
                "--activations"), Set.of());
        String config = a.get("--config", "fp32");
        QuantizationConfig quant = QuantizationConfig.parse(config);
        ActivationMode act = Commands.activations(a.get("--activations", "fp32"));
        int n = a.getInt("-n", 64, 1);
        String prompt = a.get("--prompt", "");
        try (ModelWeights weights = ModelFiles.open(a.require("--model"))) {
            Tokenizer tok = ModelFiles.tokenizer(weights, a.get("--tokenizer", null));
            try (LlamaModel model = new LlamaModel(weights, quant, act, LlamaModel.DEFAULT_MAX_BATCH)) {
                Generator gen = new Generator(model, tok);
                int[] promptIds = tok.encode(prompt, true);
                long t0 = System.nanoTime();
                int[] generated = gen.generate(promptIds, n);
                double s = (System.nanoTime() - t0) / 1e9;
                int[] ids = java.util.Arrays.copyOf(promptIds, promptIds.length + generated.length);
                System.arraycopy(generated, 0, ids, promptIds.length, generated.length);
                out.println(tok.decode(ids));
                int produced = generated.length;
                err.printf(Locale.ROOT, "%d prompt + %d generated tokens in %.2f s (%.1f tok/s), config %s%n",
                        promptIds.length, produced, s, (promptIds.length + produced) / s, config);
            }
        }
        return 0;
    }
}
