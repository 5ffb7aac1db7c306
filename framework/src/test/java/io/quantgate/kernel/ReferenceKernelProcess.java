package io.quantgate.kernel;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The reference kernel process of the tests ({@code src/test/c/reference_kernel.c}), compiled once per test JVM with
 * the machine's gcc into {@code target/}. A machine without gcc skips the tests that need it, saying so.
 */
public final class ReferenceKernelProcess {
    private static Path binary;

    private ReferenceKernelProcess() {
    }

    /** The compiled program. */
    public static synchronized Path binary() {
        if (binary == null) {
            Path src = Path.of("src/test/c/reference_kernel.c").toAbsolutePath();
            Path out = Path.of("target/reference_kernel").toAbsolutePath();
            try {
                Files.createDirectories(out.getParent());
                Process p = new ProcessBuilder("gcc", "-O2", "-Wall", "-o", out.toString(), src.toString(), "-lm")
                        .redirectErrorStream(true).start();
                String log = new String(p.getInputStream().readAllBytes());
                if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("gcc failed on " + src + ":\n" + log);
                }
            } catch (IOException e) {
                Assumptions.abort("skipped: gcc is not available to build the reference kernel (" + e.getMessage() + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            binary = out;
        }
        return binary;
    }

    /** {@code external-kernel:<binary> <mode>}. */
    public static String spec(String mode) {
        return "external-kernel:" + binary() + " " + mode;
    }
}
