package io.quantgate.junit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Tokenized datasets shared by every test class of the JVM: tokenizing WikiText-2 takes seconds and gives the
 * same tokens for the same text file (path, size, modification time) and tokenizer (its SHA-256). Holds the
 * last few streams (a few MB each).
 */
final class TokenCache {
    private static final int ENTRIES = 4;

    private record Key(Path path, long size, long modified, String tokenizerSha) {
    }

    private static final Map<Key, int[]> CACHE = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, int[]> e) {
            return size() > ENTRIES;
        }
    };

    private TokenCache() {
    }

    static int[] get(Path dataset, String tokenizerSha, Supplier<int[]> tokenize) {
        Key key;
        try {
            Path p = dataset.toAbsolutePath().normalize();
            key = new Key(p, Files.size(p), Files.getLastModifiedTime(p).toMillis(), tokenizerSha);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dataset " + dataset + ": " + e.getMessage(), e);
        }
        synchronized (CACHE) {
            int[] t = CACHE.get(key);
            if (t == null) {
                t = tokenize.get();
                CACHE.put(key, t);
            }
            return t;
        }
    }
}
