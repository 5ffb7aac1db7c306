package io.quantgate.runtime;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that readers see either the old file or the complete new one, never a half-written
 * one: the content goes to a temporary file in the same directory (same file system, so the rename is
 * atomic), is forced to disk, and is then moved over the target with {@code ATOMIC_MOVE}.
 */
public final class AtomicFile {
    private AtomicFile() {
    }

    /** What fills the temporary file. */
    public interface Content {
        void writeTo(FileChannel ch) throws IOException;
    }

    /** Writes a UTF-8 string atomically. */
    public static void writeString(Path target, String text) {
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        write(target, ch -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /**
     * @throws IllegalArgumentException naming {@code target} when it cannot be written (the temporary file
     *                                  is removed); exceptions of {@code content} pass through after cleanup
     */
    public static void write(Path target, Content content) {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
            if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
                // temp files are created owner-only; the result is an ordinary file for the user's tools
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                content.writeTo(ch);
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
        } catch (AtomicMoveNotSupportedException e) {
            throw new IllegalArgumentException("cannot write " + target + " atomically: the file system of " + dir
                    + " does not support atomic moves", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write " + target + ": " + e, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original failure is the one worth reporting
                }
            }
        }
    }
}
