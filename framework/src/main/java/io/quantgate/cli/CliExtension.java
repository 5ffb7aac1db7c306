package io.quantgate.cli;

import java.util.List;

/**
 * A command an optional artifact adds to {@code quantgate} (found with {@link java.util.ServiceLoader}, listed in
 * {@code META-INF/services/io.quantgate.cli.CliExtension}): the reports module adds {@code report generate}, the ONNX
 * Runtime backend {@code bench onnx-kernels}. With the artifact on the classpath the command appears in
 * {@code quantgate --help}; without it, nothing changes.
 */
public interface CliExtension {

    /** The path of the command this one goes under: empty for the top level, {@code ["bench"]} for a bench command. */
    List<String> parent();

    /** The command's name. */
    String name();

    /** A fresh picocli command object ({@code @Command}-annotated). */
    Object command();
}
