package io.quantgate.cli;

import io.quantgate.results.QuantGateVersion;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * {@code quantgate}: every command-line tool, one picocli command tree. The framework's commands are built in; optional
 * artifacts add theirs through {@link CliExtension}. Bad input ends with one line on stderr naming the command and what
 * is wrong (the option, the file, the value) and exit code 2, never a stack trace; {@code quantgate <command> --help}
 * prints every option. Only {@link #main} exits the JVM.
 */
public final class QuantGateCli {
    private QuantGateCli() {
    }

    @Command(name = "quantgate", mixinStandardHelpOptions = true, versionProvider = Version.class,
            synopsisSubcommandLabel = "COMMAND",
            description = "JUnit 5 benchmarks and regression gates for quantized LLM inference kernels: the command-line "
                    + "tools. Each command prints its options with --help.")
    static final class Root implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "no command given");
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
            description = "Throughput measured by the one harness: interleaved rounds, a bandwidth probe in the same "
                    + "rounds, paired ratios with intervals; --json/--out write results.json records.")
    static final class Bench implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            throw new CommandLine.ParameterException(spec.commandLine(), "no bench command given (kernels, model, "
                    + "backends, ...)");
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"QuantGate " + QuantGateVersion.get()};
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line; returns its exit code (0 success, 2 bad input or failure). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cli;
        try {
            cli = commandLine();
        } catch (ServiceConfigurationError | IllegalStateException x) {
            err.println("quantgate: a command extension on the classpath failed to load: " + x.getMessage());
            return 2;
        }
        return execute(cli, args, out, err);
    }

    /** Runs {@code args} on a command tree from {@link #commandLine()} (which a test may have adjusted). */
    public static int execute(CommandLine cli, String[] args, PrintStream out, PrintStream err) {
        PrintWriter o = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        cli.setOut(o).setErr(e);
        // as before picocli: a later occurrence of an option wins (scripts append overrides)
        cli.setOverwrittenOptionsAllowed(true);
        cli.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            e.println(c.getCommandSpec().qualifiedName(" ") + ": " + message(ex));
            e.println("see: " + c.getCommandSpec().qualifiedName(" ") + " --help");
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                    || ex instanceof UncheckedIOException || ex instanceof java.io.IOException) {
                e.println(c.getCommandSpec().qualifiedName(" ") + ": " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cli.execute(args);
    }

    private static String message(CommandLine.ParameterException ex) {
        List<String> unmatched = ex instanceof CommandLine.UnmatchedArgumentException u ? u.getUnmatched()
                : ex.getCommandLine().getUnmatchedArguments();
        if (!unmatched.isEmpty()) {
            // an unknown option explains a missing required one (a typo in its name): name the typo
            String arg = unmatched.getFirst();
            List<String> suggestions = ex instanceof CommandLine.UnmatchedArgumentException u ? u.getSuggestions()
                    : List.of();
            String what = arg.startsWith("-") ? "unknown option '" + arg + "'" : "unknown command or argument '" + arg
                    + "'";
            return what + (suggestions.isEmpty() ? "" : " (did you mean " + String.join(" or ", suggestions) + "?)");
        }
        return ex.getMessage();
    }

    /** The whole command tree: built-in commands, then every {@link CliExtension} on the classpath. */
    public static CommandLine commandLine() {
        CommandLine root = new CommandLine(new Root());
        root.addSubcommand("perplexity", new PerplexityCommand());
        root.addSubcommand("generate", new GenerateCommand());
        root.addSubcommand("quantize", new QuantizeCommand());
        CommandLine bench = new CommandLine(new Bench());
        bench.addSubcommand("kernels", new KernelBenchCommand());
        bench.addSubcommand("model", new ModelBenchCommand());
        bench.addSubcommand("backends", new BackendBenchCommand());
        bench.addSubcommand("gptq", new GptqBenchCommand());
        root.addSubcommand("bench", bench);
        for (CliExtension x : ServiceLoader.load(CliExtension.class, QuantGateCli.class.getClassLoader())) {
            CommandLine parent = root;
            for (String p : x.parent()) {
                parent = parent.getSubcommands().get(p);
                if (parent == null) {
                    throw new IllegalStateException(x.getClass().getName() + " names a parent command '" + p
                            + "' that does not exist");
                }
            }
            parent.addSubcommand(x.name(), x.command());
        }
        // no "@file" argument files: an argument that starts with '@' (a path, a model name) is taken as it is, and
        // an unreadable @file cannot escape picocli's error handling as an InitializationException
        root.setExpandAtFiles(false);
        return root;
    }
}
