package io.quantgate.cli;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * Entry point of the model-level command-line tools ({@code ./quantgate perplexity|generate|bench model|
 * quantize}). Bad input ends with one line on stderr naming what is wrong and exit code 2, not a stack
 * trace.
 */
public final class QuantGateCli {
    private static final String USAGE = """
            usage: quantgate <command> [options]
              perplexity   llama.cpp-compatible perplexity of a model under a config id (vs a baseline)
              generate     greedy generation from a prompt
              bench model  pp512 / tg128 tokens/s and the bandwidth-bound decode ceiling
              bench backends  every backend × config interleaved: tokens/s, ratios to native, perplexity
              quantize     write a model under a config id as GGUF or safetensors
            each command prints its options with --help
            """;

    private QuantGateCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            out.print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String cmd = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (cmd.equals("bench") && rest.length > 0 && (rest[0].equals("model") || rest[0].equals("backends"))) {
            cmd = "bench " + rest[0];
            rest = Arrays.copyOfRange(rest, 1, rest.length);
        }
        boolean help = Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h");
        try {
            return switch (cmd) {
                case "perplexity" -> help ? usage(out, PerplexityCommand.USAGE) : PerplexityCommand.run(rest, out, err);
                case "generate" -> help ? usage(out, GenerateCommand.USAGE) : GenerateCommand.run(rest, out, err);
                case "bench model" -> help ? usage(out, ModelBenchCommand.USAGE) : ModelBenchCommand.run(rest, out, err);
                case "bench backends" -> help ? usage(out, BackendBenchCommand.USAGE) : BackendBenchCommand.run(rest, out, err);
                case "quantize" -> help ? usage(out, QuantizeCommand.USAGE) : QuantizeCommand.run(rest, out, err);
                default -> {
                    err.println("quantgate: unknown command '" + cmd + "'");
                    err.print(USAGE);
                    yield 2;
                }
            };
        } catch (IllegalArgumentException | IllegalStateException | java.io.IOException
                 | java.io.UncheckedIOException e) {
            err.println("quantgate " + cmd + ": " + e.getMessage());
            return 2;
        }
    }

    private static int usage(PrintStream out, String usage) {
        out.print(usage);
        return 0;
    }
}
