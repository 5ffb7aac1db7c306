package io.quantgate.reports;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link ReportGenerator} wrote.
 *
 * @param markdown the BENCHMARKS.md file
 * @param files    every file written, BENCHMARKS.md first
 * @param charts   the six charts, drawn or with the reason they were not
 * @param empty    true when the inputs held no records (the "no benchmark results yet" page)
 */
public record Report(Path markdown, List<Path> files, List<ChartOutcome> charts, boolean empty) {
}
