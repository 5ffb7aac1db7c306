package io.quantgate.cli;

import io.quantgate.results.QuantGateVersion;
import io.quantgate.results.Records;
import io.quantgate.results.model.Inputs;
import io.quantgate.results.model.ResultRecord;
import io.quantgate.results.model.ResultsDocument;
import io.quantgate.results.model.ResultsJson;
import io.quantgate.runtime.FileHashes;
import io.quantgate.runtime.model.ModelWeights;
import io.quantgate.runtime.model.SyntheticWeights;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * How every bench command ends: its records in one {@link ResultsDocument} (the schema JUnit's results.json has), on
 * stdout with {@code --json}, in a file with {@code --out}, and its table for people (on stdout, or on stderr when
 * stdout carries the JSON).
 */
final class BenchOutput {
    private BenchOutput() {
    }

    /** Where progress and tables go: stderr when stdout carries the JSON document. */
    static PrintWriter log(CommandSpec spec, BenchOptions.OutputOptions o) {
        return o.json ? spec.commandLine().getErr() : spec.commandLine().getOut();
    }

    /** The command line as typed, for the document's {@code command} field. */
    static String commandLine(CommandSpec spec) {
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        return spec.root().qualifiedName() + (args.isEmpty() ? "" : " " + String.join(" ", args));
    }

    /** What a model measurement ran on: the model (spec or path) and its SHA-256, its architecture. */
    static Inputs inputs(ModelWeights weights, String model) {
        String sha = SyntheticWeights.isSpec(model) ? FileHashes.sha256(model)
                : FileHashes.sha256(Path.of(model));
        return new Inputs(model, sha, weights.architecture(), null, null, null, null, null);
    }

    /** A measured record: the command's outcome is success. */
    static ResultRecord done(ResultRecord r) {
        return r.withOutcome("SUCCESSFUL", null, Instant.now().toString());
    }

    /** A cell that did not run, with why (unavailable, cannot run, failed). */
    static ResultRecord notRun(ResultRecord r) {
        return r.withOutcome("ABORTED", r.error(), Instant.now().toString());
    }

    static void finish(CommandSpec spec, BenchOptions.OutputOptions o, Instant started, List<ResultRecord> records,
                       String table) {
        ResultsDocument doc = ResultsDocument.of(QuantGateVersion.get(), commandLine(spec), started.toString(),
                Instant.now().toString(), Records.machine(), records);
        PrintWriter log = log(spec, o);
        log.println();
        log.print(table);
        log.flush();
        if (o.out != null) {
            Path f = ResultsJson.write(o.out, doc);
            log.println("results: " + f);
        }
        if (o.json) {
            spec.commandLine().getOut().print(ResultsJson.toJson(doc));
            spec.commandLine().getOut().flush();
        }
    }
}
