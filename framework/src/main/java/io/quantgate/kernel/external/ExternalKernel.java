package io.quantgate.kernel.external;

import io.quantgate.external.LineProcess;
import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.PreparedLinear;
import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code external-kernel:<command>}: a linear kernel in another process — Python with numpy, a CUDA or Metal program,
 * anything that speaks the line protocol of docs/kernels.md ("Out-of-process kernels") on stdin/stdout. Weights go to
 * the process once as files of QuantGate's packed bytes (codes, scales, zero points, exactly the SPEC layout), which it
 * may memory-map and repack; activations and outputs are exchanged through two memory-mapped files both sides map, so
 * nothing is copied through the pipe but one short control line per call. A process that crashes, answers an error,
 * answers nonsense or does not answer within the timeout is a clear {@link KernelException}, never a hang.
 *
 * <p>The provider registered with {@link java.util.ServiceLoader} has no command; {@code
 * Kernels.byName("external-kernel:python3 k.py")} binds one. The process is started for the first prepared matrix and
 * stopped when the last one is closed. Timeout per answer: {@code -Dquantgate.kernel.timeout.s} (default 120; 10×
 * that to prepare).
 */
public final class ExternalKernel implements LinearKernel {
    public static final String NAME = "external-kernel";
    static final int PROTOCOL = 1;
    private static final Duration HELLO_TIMEOUT = Duration.ofSeconds(30);

    private final List<String> command;
    private final Duration timeout;
    private Hello hello;
    private Session session;

    /** The {@link java.util.ServiceLoader} instance: no command (name one as {@code external-kernel:<command>}). */
    public ExternalKernel() {
        this(List.of(), Duration.ofSeconds(Long.getLong("quantgate.kernel.timeout.s", 120)));
    }

    public ExternalKernel(List<String> command, Duration timeout) {
        this.command = List.copyOf(command);
        this.timeout = timeout;
    }

    /** What the process says about itself (first line of the protocol). */
    record Hello(String name, Set<WeightFormat> formats, Set<ActivationMode> activations) {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return command.isEmpty() ? "external kernel (no command given)" : "external kernel '" + String.join(" ", command)
                + "'" + (hello != null ? " (" + hello.name() + ")" : "");
    }

    @Override
    public LinearKernel withArgument(String argument) {
        List<String> c = Arrays.stream(argument.strip().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        if (c.isEmpty()) {
            throw new IllegalArgumentException("kernel 'external-kernel:' needs a command, e.g. external-kernel:python3 k.py");
        }
        return new ExternalKernel(c, timeout);
    }

    @Override
    public Optional<String> unavailableReason() {
        if (command.isEmpty()) {
            return Optional.of("no command: name it as external-kernel:<command>");
        }
        try {
            hello();
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of(e.getMessage());
        }
    }

    @Override
    public Set<WeightFormat> formats() {
        return hello().formats();
    }

    @Override
    public Set<ActivationMode> activationModes() {
        return hello().activations();
    }

    /** Asks a short-lived process once what it runs. */
    synchronized Hello hello() {
        if (hello == null) {
            if (command.isEmpty()) {
                throw new IllegalArgumentException("kernel 'external-kernel' has no command: name it as "
                        + "external-kernel:<command>");
            }
            try (LineProcess p = new LineProcess(command, "external kernel", KernelException::new)) {
                hello = parseHello(p, p.request("hello " + PROTOCOL, "hello", HELLO_TIMEOUT));
                p.close("quit");
            }
        }
        return hello;
    }

    private Hello parseHello(LineProcess p, String line) {
        Map<String, String> f = ok(p, "hello", line);
        Set<WeightFormat> formats = EnumSet.noneOf(WeightFormat.class);
        for (String id : f.getOrDefault("formats", "").split(",")) {
            if (id.isBlank()) {
                continue;
            }
            if (id.equals("*")) {
                formats.addAll(EnumSet.allOf(WeightFormat.class));
                continue;
            }
            try {
                formats.add(WeightFormat.fromId(id.strip()));
            } catch (IllegalArgumentException e) {
                p.kill();
                throw new KernelException("external kernel " + p + " answered hello with an unknown format '" + id
                        + "' in " + LineProcess.abbreviate(line));
            }
        }
        if (formats.isEmpty()) {
            p.kill();
            throw new KernelException("external kernel " + p + " answered hello without formats=...: "
                    + LineProcess.abbreviate(line));
        }
        Set<ActivationMode> acts = EnumSet.noneOf(ActivationMode.class);
        for (String a : f.getOrDefault("activations", "fp32").split(",")) {
            if (!a.isBlank()) {
                acts.add(ActivationMode.fromId(a.strip()));
            }
        }
        return new Hello(f.getOrDefault("name", "?"), formats, acts);
    }

    /**
     * The fields of an {@code ok key=value ...} reply; an {@code error ...} reply or any other line is a
     * {@link KernelException} (any other line kills the process: its stream can no longer be trusted).
     */
    static Map<String, String> ok(LineProcess p, String op, String line) {
        if (line.startsWith("error")) {
            throw new KernelException("external kernel " + p + " failed '" + op + "': "
                    + line.substring(5).strip());
        }
        if (!line.equals("ok") && !line.startsWith("ok ")) {
            p.kill();
            throw new KernelException("external kernel " + p + " answered '" + op + "' with a line that is neither "
                    + "'ok ...' nor 'error ...': " + LineProcess.abbreviate(line) + p.stderr());
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String kv : line.substring(2).strip().split("\\s+")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                fields.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return fields;
    }

    @Override
    public synchronized PreparedLinear prepare(QuantizedMatrix weights, ActivationMode activations) {
        if (session == null || !session.process.isAlive()) {
            session = new Session(command, timeout);
        }
        Session s = session;
        s.users++;
        try {
            return s.prepare(weights, activations, () -> release(s));
        } catch (RuntimeException e) {
            release(s);
            throw e;
        }
    }

    private synchronized void release(Session s) {
        if (--s.users == 0) {
            s.close();
            if (session == s) {
                session = null;
            }
        }
    }

    /** One running kernel process with its work directory and the shared activation / output files. */
    static final class Session {
        final LineProcess process;
        final Duration timeout;
        final Path dir;
        final Arena arena = Arena.ofShared();
        int users;
        int nextHandle;
        MemorySegment x;
        MemorySegment y;
        Path xFile;
        Path yFile;

        Session(List<String> command, Duration timeout) {
            this.timeout = timeout;
            try {
                this.dir = Files.createTempDirectory("quantgate-kernel-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a work directory for an external kernel: " + e, e);
            }
            if (dir.toString().chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalStateException("the kernel work directory " + dir + " contains whitespace, which the "
                        + "line protocol cannot carry: set java.io.tmpdir to a path without spaces");
            }
            this.process = new LineProcess(command, "external kernel", KernelException::new);
            ok(process, "hello", process.request("hello " + PROTOCOL, "hello", HELLO_TIMEOUT));
        }

        PreparedLinear prepare(QuantizedMatrix w, ActivationMode act, Runnable onClose) {
            int handle = ++nextHandle;
            String base = "w" + handle;
            Path codes = write(base + ".codes", w.codes());
            Path scales = w.scales().byteSize() == 0 ? null : write(base + ".scales", w.scales());
            Path zeros = w.format() == WeightFormat.INT4 ? write(base + ".zeros", w.zeros()) : null;
            ConfigId id = w.config();
            String line = "prepare " + handle + " " + id.format().id() + " " + (id.format().isQuantized()
                    ? w.groupSize() : 0) + " " + w.rows() + " " + w.cols() + " " + codes + " "
                    + (scales == null ? "-" : scales) + " " + (zeros == null ? "-" : zeros) + " "
                    + act.name().toLowerCase(Locale.ROOT);
            Map<String, String> f = ok(process, "prepare", process.request(line, "prepare", timeout.multipliedBy(10)));
            long bytes = w.packedBytes();
            if (f.containsKey("bytes")) {
                try {
                    bytes = Long.parseLong(f.get("bytes"));
                } catch (NumberFormatException e) {
                    process.kill();
                    throw new KernelException("external kernel " + process + " answered prepare with bytes="
                            + f.get("bytes") + ", not an integer");
                }
            }
            long prepared = bytes;
            String what = "external kernel " + process + " " + id + ", " + act.name().toLowerCase(Locale.ROOT)
                    + " activations";
            return new PreparedLinear() {
                private boolean closed;

                @Override
                public String describe() {
                    return what;
                }

                @Override
                public long preparedBytes() {
                    return prepared;
                }

                @Override
                public void gemm(MemorySegment in, int m, long ldx, MemorySegment out, long ldy) {
                    Session.this.gemm(handle, w.rows(), w.cols(), in, m, ldx, out, ldy);
                }

                @Override
                public void close() {
                    if (!closed) {
                        closed = true;
                        try {
                            if (process.isAlive()) {
                                ok(process, "release", process.request("release " + handle, "release", timeout));
                            }
                        } finally {
                            deleteQuietly(codes, scales, zeros);
                            onClose.run();
                        }
                    }
                }
            };
        }

        /** Copies x into the shared activation file, asks for the product, copies the shared output into y. */
        synchronized void gemm(int handle, int n, int k, MemorySegment in, int m, long ldx, MemorySegment out,
                               long ldy) {
            long xBytes = 4L * m * k;
            long yBytes = 4L * m * n;
            ensure(xBytes, yBytes);
            for (int i = 0; i < m; i++) {
                MemorySegment.copy(in, 4L * i * ldx, x, 4L * i * k, 4L * k);
            }
            ok(process, "gemm", process.request("gemm " + handle + " " + m + " " + xFile + " " + k + " " + yFile + " "
                    + n, "gemm", timeout));
            for (int i = 0; i < m; i++) {
                MemorySegment.copy(y, 4L * i * n, out, 4L * i * ldy, 4L * n);
            }
        }

        /** Shared files at least this large, mapped read-write (a larger call maps new ones). */
        private void ensure(long xBytes, long yBytes) {
            if (x == null || x.byteSize() < xBytes) {
                xFile = dir.resolve("x-" + xBytes + ".f32");
                x = map(xFile, xBytes);
            }
            if (y == null || y.byteSize() < yBytes) {
                yFile = dir.resolve("y-" + yBytes + ".f32");
                y = map(yFile, yBytes);
            }
        }

        private MemorySegment map(Path f, long bytes) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                ch.truncate(0);
                ch.position(bytes - 1);
                ch.write(java.nio.ByteBuffer.wrap(new byte[1]));
                return ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot map " + f + " for the external kernel: " + e, e);
            }
        }

        private Path write(String name, MemorySegment bytes) {
            Path f = dir.resolve(name);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer b = bytes.asByteBuffer();
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + f + " for the external kernel: " + e, e);
            }
            return f;
        }

        private static void deleteQuietly(Path... files) {
            for (Path f : files) {
                if (f != null) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException ignored) {
                        // the directory is removed when the session ends
                    }
                }
            }
        }

        void close() {
            try {
                process.close("quit");
            } finally {
                arena.close();
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> deleteQuietly(p));
                } catch (IOException ignored) {
                    // a temporary directory left behind is harmless
                }
            }
        }
    }
}
