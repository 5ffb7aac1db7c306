package io.quantgate.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.quantgate.kernels.nativeimpl.NativeCallTrace;
import io.quantgate.kernels.nativeimpl.NativeCallTrace.Call;
import io.quantgate.kernels.nativeimpl.NativeCallTrace.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecodeBreakdownTest {

    @Test
    void callsAreSummedByShapeAndKindPerTokenWithTheTimeBetweenThem() {
        // two tokens: each a 3072x2048 GEMV (300 us), attention (50 us), a 2048x2048 GEMV (100 us); 10 ms of wall time
        List<Call> calls = List.of(
                new Call(0, 300_000, Kind.GEMM, 1, 3072, 2048), new Call(310_000, 360_000, Kind.ATTENTION, 1, 32, 0),
                new Call(370_000, 470_000, Kind.GEMM, 1, 2048, 2048),
                new Call(500_000, 800_000, Kind.GEMM, 1, 3072, 2048), new Call(810_000, 860_000, Kind.ATTENTION, 1, 32, 1),
                new Call(870_000, 970_000, Kind.GEMM, 1, 2048, 2048), new Call(980_000, 990_000, Kind.GEMM, 4, 64, 64));
        DecodeBreakdown b = DecodeBreakdown.of(new NativeCallTrace.Trace(calls, calls.size()), 2, 1_000_000);

        assertThat(b.rows()).extracting(DecodeBreakdown.Row::what).containsExactly("GEMV 3072x2048", "GEMV 2048x2048",
                "attention", "GEMM M=4 64x64", "between native calls (the engine's own code)");
        DecodeBreakdown.Row gemv = b.rows().getFirst();
        assertThat(gemv.calls()).isEqualTo(1.0);
        assertThat(gemv.micros()).isCloseTo(300.0, within(1e-9));
        assertThat(gemv.share()).isCloseTo(0.6, within(1e-9));
        // in calls: 600 + 200 + 100 + 10 us of 1000
        assertThat(b.rows().getLast().micros()).isCloseTo(45.0, within(1e-9));
        assertThat(b.rows().stream().mapToDouble(DecodeBreakdown.Row::share).sum()).isCloseTo(1.0, within(1e-9));
        assertThat(b.rate()).isCloseTo(2000.0, within(1e-6));
        assertThat(b.complete()).isTrue();
        assertThat(b.table("subject")).contains("| GEMV 3072x2048 | 1 | 300.0 | 60.0 % |")
                .contains("tg2 traced once, 2000.00 tokens/s");
    }

    @Test
    void aTraceThatRanOutOfRoomSaysSo() {
        List<Call> calls = List.of(new Call(0, 10, Kind.SWIGLU, 1, 8, 0));
        DecodeBreakdown b = DecodeBreakdown.of(new NativeCallTrace.Trace(calls, 5), 1, 100);
        assertThat(b.complete()).isFalse();
        assertThat(b.table("s")).contains("trace full");
    }
}
