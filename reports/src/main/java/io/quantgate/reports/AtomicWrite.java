package io.quantgate.reports;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes report files so that a reader (a CI step uploading the directory, a browser showing BENCHMARKS.md) sees the
 * old file or the whole new one, never half: a temporary file in the same directory, then an atomic move over the
 * target.
 */
final class AtomicWrite {
    private AtomicWrite() {
    }

    static Path bytes(Path target, byte[] content) {
        Path abs = target.toAbsolutePath();
        try {
            Files.createDirectories(abs.getParent());
            Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
            try {
                Files.write(tmp, content);
                readableByAll(tmp);
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + abs + ": " + e.getMessage(), e);
        }
        return abs;
    }

    /**
     * Temporary files are created private (rw-------); a report is meant to be read by others (a web server, a CI
     * upload step running as another user), so it gets the usual rw-r--r--.
     */
    private static void readableByAll(Path p) throws IOException {
        try {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException notPosix) {
            // other file systems keep their default permissions
        }
    }

    static Path string(Path target, String content) {
        return bytes(target, content.getBytes(StandardCharsets.UTF_8));
    }
}
