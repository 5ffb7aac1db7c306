package io.quantgate.results.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one way QuantGate writes a file (results, baselines, reports, exported models, bench output): readers see the
 * old file or the complete new one, never half of it, and a crash loses nothing that was there before.
 *
 * <p>The content goes to a temporary file beside the target (same file system, so the rename is atomic), is forced to
 * disk, made {@code rw-r--r--} (temporary files start owner-only; results and reports are read by other tools and
 * users), and moved over the target with {@code ATOMIC_MOVE}. Temporary files are named
 * {@code .<target>.<pid>-<random>.quantgate-tmp}: a process killed mid-write leaves one behind, and the next write
 * into the same directory removes every one whose process is gone.
 */
public final class AtomicFiles {
    /** Suffix of every temporary file this class creates. */
    public static final String TEMP_SUFFIX = ".quantgate-tmp";

    private AtomicFiles() {
    }

    /** What fills the temporary file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** Writes UTF-8 text atomically; returns the absolute target. */
    public static Path writeString(Path target, String text) {
        return writeBytes(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes bytes atomically; returns the absolute target. */
    public static Path writeBytes(Path target, byte[] bytes) {
        return write(target, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /**
     * Writes whatever {@code content} puts into the channel atomically; returns the absolute target.
     *
     * @throws UncheckedIOException naming the target when it cannot be written (the temporary file is removed);
     *                              runtime exceptions of {@code content} pass through after the clean-up
     */
    public static Path write(Path target, Content content) {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            removeStaleTemporaries(abs);
            tmp = dir.resolve(tempPrefix(abs) + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + TEMP_SUFFIX);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                content.writeTo(ch);
                ch.force(true);
            }
            readableByAll(tmp);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            return abs;
        } catch (AtomicMoveNotSupportedException e) {
            throw new UncheckedIOException("cannot write " + abs + " atomically: the file system of " + dir
                    + " does not support atomic moves", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + abs + ": " + describe(e), e);
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

    private static String tempPrefix(Path target) {
        return "." + target.getFileName() + ".";
    }

    /**
     * Removes the temporary files in {@code target}'s directory left by processes that no longer run (killed while
     * writing any file there, e.g. a quantized model whose name has changed since). Files of a process that still runs
     * are left alone: it may be writing right now.
     */
    static void removeStaleTemporaries(Path target) throws IOException {
        Path dir = target.getParent();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, p -> {
            String n = p.getFileName().toString();
            return n.startsWith(".") && n.endsWith(TEMP_SUFFIX);
        })) {
            for (Path p : files) {
                String n = p.getFileName().toString();
                String stem = n.substring(0, n.length() - TEMP_SUFFIX.length());
                String middle = stem.substring(stem.lastIndexOf('.') + 1); // <pid>-<random>
                int dash = middle.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? middle : middle.substring(0, dash));
                } catch (NumberFormatException notOurs) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                Files.deleteIfExists(p);
            }
        }
    }

    private static void readableByAll(Path p) throws IOException {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException notPosix) {
            // other file systems keep their default permissions
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
