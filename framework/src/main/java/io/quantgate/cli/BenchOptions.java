package io.quantgate.cli;

import io.quantgate.harness.MemorySizing;
import io.quantgate.harness.Sampling;
import io.quantgate.kernels.nativeimpl.NativeKernels;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options every bench command shares (picocli mixins), with each command's own defaults. */
final class BenchOptions {
    private BenchOptions() {
    }

    /** How rounds are sampled (SPEC §4); unset values take the command's defaults. */
    static final class SamplingOptions {
        @Option(names = "--warmup", paramLabel = "N", description = "unmeasured rounds")
        Integer warmup;

        @Option(names = {"--iterations", "--reps"}, paramLabel = "N", description = "measured rounds")
        Integer iterations;

        @Option(names = "--max-seconds", paramLabel = "S",
                description = "time budget of the measured rounds of one workload; when it runs out fewer rounds "
                        + "are kept (at least 5) and the row says so")
        Double maxSeconds;

        @Option(names = "--outlier-sigma", paramLabel = "S", description = "drop samples beyond S sd of the mean "
                + "(default 2)")
        Double outlierSigma;

        @Option(names = "--confidence", paramLabel = "L", description = "level of the intervals (default 0.95)")
        Double confidence;

        Sampling sampling(int warmupDefault, int iterationsDefault, double maxSecondsDefault) {
            int w = warmup == null ? warmupDefault : warmup;
            int i = iterations == null ? iterationsDefault : iterations;
            double m = maxSeconds == null ? maxSecondsDefault : maxSeconds;
            return new Sampling(w, i, m, outlierSigma == null ? 2.0 : outlierSigma, confidence == null ? 0.95
                    : confidence, 0);
        }
    }

    /** The working set of kernel weights and the bandwidth probe (docs/benchmarks.md, "sizing"). */
    static final class MemoryOptions {
        @Option(names = "--working-set-mb", paramLabel = "MB",
                description = "each kernel rotates over copies of its weights totalling at least this (default 4 x "
                        + "the last-level cache)")
        Integer workingSetMb;

        @Option(names = "--probe-mb", paramLabel = "MB",
                description = "bandwidth probe buffer (default the larger of 4 x the last-level cache and 256)")
        Integer probeMb;

        MemorySizing sizing() {
            if ((workingSetMb != null && workingSetMb < 1) || (probeMb != null && probeMb < 1)) {
                throw new IllegalArgumentException("--working-set-mb and --probe-mb must be >= 1");
            }
            return MemorySizing.of(workingSetMb, probeMb);
        }
    }

    /** Where the results document goes. */
    static final class OutputOptions {
        @Option(names = "--json", description = "print the results document (" + io.quantgate.results.model.ResultsSchema.ID
                + ") on stdout; progress and tables go to stderr")
        boolean json;

        @Option(names = "--out", paramLabel = "FILE", description = "also write the results document to FILE "
                + "(atomically); ./quantgate report generate FILE turns it into a report")
        Path out;
    }

    /** Kernel threads for the whole JVM. */
    static final class ThreadOptions {
        @Option(names = "--threads", paramLabel = "N", description = "kernel threads (default: all cores)")
        Integer threads;

        void apply() {
            if (threads != null) {
                if (threads < 0) {
                    throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
                }
                NativeKernels.setThreads(threads);
            }
        }
    }
}
