package io.quantgate.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SHA-256 of input files, computed once per JVM per file version (path, size, modification time), since a
 * multi-gigabyte model is hashed at about 1 GB/s and every test class would otherwise do it again.
 */
public final class FileHashes {
    private record Version(Path path, long size, long modified) {
    }

    private static final ConcurrentHashMap<Version, String> CACHE = new ConcurrentHashMap<>();

    private FileHashes() {
    }

    public static String sha256(Path file) {
        try {
            Path p = file.toAbsolutePath().normalize();
            Version v = new Version(p, Files.size(p), Files.getLastModifiedTime(p).toMillis());
            return CACHE.computeIfAbsent(v, k -> digest(k.path()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash " + file + ": " + e.getMessage(), e);
        }
    }

    public static String sha256(String text) {
        return HexFormat.of().formatHex(md().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static String digest(Path p) {
        MessageDigest md = md();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(p)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash " + p + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest md() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
