package io.quantgate.kernels.nativeimpl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class NativeCallTraceTest {

    @Test
    void tracedCallsComeBackInOrderWithTheirKindsAndSizes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment gate = arena.allocate(4L * 3 * 10, 64), up = arena.allocate(4L * 3 * 10, 64);
            MemorySegment src = arena.allocate(4L * 2 * 8, 64), cache = arena.allocate(4L * 2 * 4 * 6, 64);
            NativeCallTrace.start(16);
            long before = System.nanoTime();
            NativeKernels.swiglu(gate, up, 3, 10, 10);
            NativeKernels.kvStore(src, 2, 8, 2, 4, cache, 4 * 6, 6, 1);
            long after = System.nanoTime();
            NativeKernels.swiglu(gate, up, 1, 10, 10);
            NativeCallTrace.Trace trace = NativeCallTrace.stop();
            NativeKernels.swiglu(gate, up, 1, 10, 10); // stopped: not recorded

            assertThat(trace.complete()).isTrue();
            assertThat(trace.calls()).extracting(NativeCallTrace.Call::kind).containsExactly(
                    NativeCallTrace.Kind.SWIGLU, NativeCallTrace.Kind.KV_STORE, NativeCallTrace.Kind.SWIGLU);
            NativeCallTrace.Call swiglu = trace.calls().get(0), store = trace.calls().get(1);
            assertThat(new int[] {swiglu.m(), swiglu.n()}).containsExactly(3, 10);
            assertThat(new int[] {store.m(), store.n(), store.k()}).containsExactly(2, 2, 4);
            // the native clock is System.nanoTime's: the first two calls lie between the two readings around them
            assertThat(swiglu.startNanos()).isBetween(before, store.startNanos());
            assertThat(store.endNanos()).isBetween(store.startNanos(), after);
            assertThat(trace.calls()).allSatisfy(c -> assertThat(c.nanos()).isNotNegative());
        }
    }

    @Test
    void aFullTraceCountsTheCallsItCouldNotKeep() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment g = arena.allocate(64, 64), u = arena.allocate(64, 64);
            NativeCallTrace.start(2);
            for (int i = 0; i < 5; i++) {
                NativeKernels.swiglu(g, u, 1, 4, 4);
            }
            NativeCallTrace.Trace trace = NativeCallTrace.stop();
            assertThat(trace.traced()).isEqualTo(5);
            assertThat(trace.calls()).hasSize(2);
            assertThat(trace.complete()).isFalse();
            NativeCallTrace.start(4); // a new trace starts empty
            assertThat(NativeCallTrace.stop().calls()).isEmpty();
        }
        assertThatThrownBy(() -> NativeCallTrace.start(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 .. 2^26");
    }
}
