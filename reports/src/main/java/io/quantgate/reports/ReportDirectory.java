package io.quantgate.reports;

import io.quantgate.results.model.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Publishes a report's files into a directory so that a reader — or a process killed at any instant — sees the whole
 * old report or the whole new one, never a mix of the two (each file being atomic is not enough: BENCHMARKS.md of one
 * run beside the charts of another would describe figures they do not show).
 *
 * <p>A report is written complete into a fresh generation directory {@code <out>/.report/<generation>/}; the single
 * symbolic link {@code <out>/.report/current} is then switched to it by one atomic rename, and every report file in
 * {@code <out>} is a symbolic link through {@code .report/current} ({@code BENCHMARKS.md →
 * .report/current/BENCHMARKS.md}), so the paths users open never change. Older generations are removed after the
 * switch; one left by a killed run is removed by the next. Where the file system has no symbolic links, the files are
 * written in place one by one (each atomic) and the report says nothing stronger.
 */
final class ReportDirectory {
    static final String STATE = ".report";
    static final String CURRENT = "current";

    private final Path out;
    private final Path state;

    ReportDirectory(Path out) {
        this.out = out.toAbsolutePath().normalize();
        this.state = this.out.resolve(STATE);
    }

    /** A fresh, empty generation directory to write the new report into (not visible to readers yet). */
    Path stage() {
        try {
            Files.createDirectories(state);
            Path gen = state.resolve("g" + System.currentTimeMillis() + "-" + ProcessHandle.current().pid() + "-"
                    + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
            return Files.createDirectory(gen);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the report directory under " + state + ": " + e.getMessage(),
                    e);
        }
    }

    /**
     * Makes {@code generation} (filled by the caller; {@code names} are its files) the report in {@code out}: one
     * atomic switch of {@code .report/current}, links for new names, dangling links of files the new report does not
     * have removed, older generations deleted.
     *
     * @return the published paths in {@code out}, in the order of {@code names}
     */
    List<Path> publish(Path generation, List<String> names) {
        try {
            if (!symlinksWork()) {
                return copyInPlace(generation, names);
            }
            Path current = state.resolve(CURRENT);
            if (!Files.isSymbolicLink(current)) {
                adoptOldFiles(names);
            }
            // the one atomic step: current -> the new generation
            Path tmp = state.resolve(CURRENT + "." + ProcessHandle.current().pid() + AtomicFiles.TEMP_SUFFIX);
            Files.deleteIfExists(tmp);
            Files.createSymbolicLink(tmp, generation.getFileName());
            Files.move(tmp, current, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            List<Path> published = new ArrayList<>();
            for (String n : names) {
                published.add(link(n));
            }
            removeDanglingLinks();
            removeOtherGenerations(generation);
            return published;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot publish the report into " + out + ": " + e.getMessage(), e);
        }
    }

    /** {@code out/name} as a link through {@code .report/current}, replacing a plain file atomically. */
    private Path link(String name) throws IOException {
        Path target = Path.of(STATE, CURRENT, name);
        Path p = out.resolve(name);
        if (Files.isSymbolicLink(p) && Files.readSymbolicLink(p).equals(target)) {
            return p;
        }
        Path tmp = out.resolve("." + name + "." + ProcessHandle.current().pid() + "-link" + AtomicFiles.TEMP_SUFFIX);
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, target);
        Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return p;
    }

    /**
     * First publication into a directory that holds a report as plain files (an older QuantGate): they become a
     * generation of their own, current, and links replace them atomically — readers see the old report throughout.
     */
    private void adoptOldFiles(List<String> names) throws IOException {
        Path old = stage();
        Map<String, Path> existing = new LinkedHashMap<>();
        for (String n : allNames(names)) {
            Path p = out.resolve(n);
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                existing.put(n, p);
            }
        }
        for (Map.Entry<String, Path> e : existing.entrySet()) {
            Files.copy(e.getValue(), old.resolve(e.getKey()), StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path tmp = state.resolve(CURRENT + "." + ProcessHandle.current().pid() + AtomicFiles.TEMP_SUFFIX);
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, old.getFileName());
        Files.move(tmp, state.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        for (String n : existing.keySet()) {
            link(n);
        }
    }

    /** The names a report may have: this one's, and every chart name (an old report may have one this lacks). */
    private static List<String> allNames(List<String> names) {
        List<String> all = new ArrayList<>(names);
        for (String n : ReportCharts.FILES) {
            if (!all.contains(n)) {
                all.add(n);
            }
        }
        return all;
    }

    /** Links in {@code out} through {@code .report/current} whose file the new report does not have. */
    private void removeDanglingLinks() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(out)) {
            for (Path p : files) {
                if (Files.isSymbolicLink(p) && Files.readSymbolicLink(p).startsWith(Path.of(STATE, CURRENT))
                        && !Files.exists(p)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private void removeOtherGenerations(Path keep) throws IOException {
        try (DirectoryStream<Path> gens = Files.newDirectoryStream(state, p -> Files.isDirectory(p,
                LinkOption.NOFOLLOW_LINKS))) {
            for (Path g : gens) {
                if (!g.getFileName().equals(keep.getFileName()) && !liveWriter(g)) {
                    deleteTree(g);
                }
            }
        }
    }

    /** A generation another report writer is filling right now (its pid runs, and it is not this process). */
    private static boolean liveWriter(Path generation) {
        String[] parts = generation.getFileName().toString().split("-");
        if (parts.length < 3) {
            return false;
        }
        try {
            long pid = Long.parseLong(parts[1]);
            return pid != ProcessHandle.current().pid()
                    && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private List<Path> copyInPlace(Path generation, List<String> names) throws IOException {
        List<Path> published = new ArrayList<>();
        for (String n : names) {
            published.add(AtomicFiles.writeBytes(out.resolve(n), Files.readAllBytes(generation.resolve(n))));
        }
        for (String chart : ReportCharts.FILES) {
            if (!names.contains(chart)) {
                Files.deleteIfExists(out.resolve(chart)); // a chart this report does not describe
            }
        }
        deleteTree(generation);
        return published;
    }

    private boolean symlinksWork() {
        Path probe = state.resolve(".probe." + ProcessHandle.current().pid() + AtomicFiles.TEMP_SUFFIX);
        try {
            Files.deleteIfExists(probe);
            Files.createSymbolicLink(probe, Path.of(CURRENT));
            Files.delete(probe);
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }
}
