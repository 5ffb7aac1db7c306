package io.quantgate.kernels.nativeimpl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Finds libquantgate.so: {@code -Dquantgate.native.lib=/path} first, then the copy Maven built into
 * the classpath (used in place when it is a plain file, extracted to a temporary file from a jar).
 */
final class NativeLibrary {
    static final String RESOURCE = "/native/linux-x86_64/libquantgate.so";

    private NativeLibrary() {}

    static SymbolLookup load() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        String override = System.getProperty("quantgate.native.lib");
        Path path;
        if (override != null && !override.isBlank()) {
            path = Path.of(override);
            if (!Files.isRegularFile(path)) {
                throw new IllegalStateException("quantgate.native.lib=" + override + " is not a file");
            }
        } else {
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                throw new UnsupportedOperationException("QuantGate's native kernels are built for linux-x86_64; this JVM runs on "
                        + os + "/" + arch + " (set -Dquantgate.native.lib to a library built for it)");
            }
            path = locateOnClasspath();
        }
        return SymbolLookup.libraryLookup(path, Arena.global());
    }

    private static Path locateOnClasspath() {
        URL url = NativeLibrary.class.getResource(RESOURCE);
        if (url == null) {
            throw new IllegalStateException("native library " + RESOURCE + " is not on the classpath: build the project with "
                    + "./quantgate build (it compiles src/main/c with gcc) or set -Dquantgate.native.lib");
        }
        try {
            if ("file".equals(url.getProtocol())) {
                return Path.of(url.toURI());
            }
            Path tmp = Files.createTempFile("libquantgate", ".so");
            tmp.toFile().deleteOnExit();
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            return tmp;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + RESOURCE, e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("bad classpath URL " + url, e);
        }
    }
}
