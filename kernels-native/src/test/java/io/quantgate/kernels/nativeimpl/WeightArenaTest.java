package io.quantgate.kernels.nativeimpl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class WeightArenaTest {

    @Test
    void largeSegmentsAreZeroedAlignedMappingsAndSmallOnesOrdinary() {
        WeightArena arena = WeightArena.ofShared();
        long big = 5L * 1024 * 1024 + 123; // not a multiple of a page
        MemorySegment a = arena.allocate(big, 64);
        MemorySegment small = arena.allocate(4096, 64);
        assertThat(a.byteSize()).isEqualTo(big);
        if (WeightArena.enabled()) {
            assertThat(a.address() % (2L << 20)).as("a mapping starts on a 2 MiB boundary").isZero();
            assertThat(arena.mappedBytes()).isEqualTo(big);
        }
        for (long i = 0; i < big; i += 4093) {
            assertThat(a.get(ValueLayout.JAVA_BYTE, i)).isZero();
        }
        a.set(ValueLayout.JAVA_BYTE, big - 1, (byte) 7);
        assertThat(a.get(ValueLayout.JAVA_BYTE, big - 1)).isEqualTo((byte) 7);
        assertThat(small.byteSize()).isEqualTo(4096);
        assertThat(small.address() % 64).isZero();
        assertThatThrownBy(() -> a.get(ValueLayout.JAVA_BYTE, big)).isInstanceOf(IndexOutOfBoundsException.class);
        arena.close();
        assertThatThrownBy(() -> a.get(ValueLayout.JAVA_BYTE, 0)).as("closed with the arena")
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> small.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(arena::close).as("closing twice, as any Arena").isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> arena.allocate(big, 64)).as("allocating after close")
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badArgumentsGetTheArenasOwnErrors() {
        try (WeightArena arena = WeightArena.ofShared()) {
            assertThatThrownBy(() -> arena.allocate(-1, 64)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> arena.allocate(4L << 20, 3)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    /** Where the kernel offers transparent huge pages to madvised memory, a touched mapping is on them. */
    @Test
    void touchedMappingsAreOnHugePagesWhereTheSystemHasThem() throws IOException {
        Path thp = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        assumeTrue(Files.isReadable(thp), "no " + thp + ": not Linux, or no transparent huge pages");
        String mode = Files.readString(thp);
        assumeTrue(mode.contains("[always]") || mode.contains("[madvise]"),
                "transparent huge pages are off here (" + mode.trim() + ")");
        assumeTrue(WeightArena.enabled(), "-Dquantgate.hugePages=false");
        try (WeightArena arena = WeightArena.ofShared()) {
            long bytes = 16L << 20;
            MemorySegment a = arena.allocate(bytes, 64);
            for (long i = 0; i < bytes; i += 4096) {
                a.set(ValueLayout.JAVA_BYTE, i, (byte) 1);
            }
            assertThat(anonHugeKb(a.address())).as("AnonHugePages of the mapping in /proc/self/smaps")
                    .isGreaterThanOrEqualTo(2048);
        }
    }

    /** AnonHugePages (kB) of the mapping that starts at {@code address}, from /proc/self/smaps. */
    private static long anonHugeKb(long address) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        boolean inside = false;
        for (String line : lines) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                long start = Long.parseUnsignedLong(line.substring(0, line.indexOf('-')), 16);
                inside = start == address;
            } else if (inside && line.startsWith("AnonHugePages:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no mapping starts at 0x" + Long.toHexString(address) + " in /proc/self/smaps");
    }
}
