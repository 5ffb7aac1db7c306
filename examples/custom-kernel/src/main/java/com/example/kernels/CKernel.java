package com.example.kernels;

import io.quantgate.kernel.LinearKernel;
import io.quantgate.kernel.PreparedLinear;
import io.quantgate.kernels.format.QuantizedMatrix;
import io.quantgate.kernels.format.WeightFormat;
import io.quantgate.kernels.nativeimpl.ActivationMode;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * The user's C kernel ({@code src/main/c/example_kernel.c}, built by this project's Maven build into
 * {@code target/native/libexample_kernel.so}) as a QuantGate linear kernel, bound with {@code java.lang.foreign}. It
 * reads QuantGate's int4s packing in place: no repacking, so its prepared bytes are the packed bytes.
 */
public class CKernel implements LinearKernel {
    /** Where the library is: {@code -Dexample.kernel.lib}, else the build's output. */
    static final Path LIBRARY = Path.of(System.getProperty("example.kernel.lib", "target/native/libexample_kernel.so"));
    private static final FunctionDescriptor GEMM = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG);

    private final MethodHandle gemm;

    public CKernel() {
        this("example_gemm_int4s");
    }

    CKernel(String symbol) {
        this.gemm = Files.isRegularFile(LIBRARY) ? Linker.nativeLinker().downcallHandle(SymbolLookup.libraryLookup(
                LIBRARY, Arena.global()).find(symbol).orElseThrow(), GEMM) : null;
    }

    @Override
    public String name() {
        return "example-c";
    }

    @Override
    public String description() {
        return "the example's C int4s kernel (" + LIBRARY.getFileName() + ", -O3 -march=native, one thread)";
    }

    @Override
    public Optional<String> unavailableReason() {
        return gemm != null ? Optional.empty() : Optional.of(LIBRARY.toAbsolutePath() + " was not built (mvn compile)");
    }

    @Override
    public Set<WeightFormat> formats() {
        return EnumSet.of(WeightFormat.INT4S);
    }

    @Override
    public Set<ActivationMode> activationModes() {
        return EnumSet.of(ActivationMode.FP32);
    }

    @Override
    public PreparedLinear prepare(QuantizedMatrix w, ActivationMode activations) {
        return new PreparedLinear() {
            @Override
            public String describe() {
                return name() + " " + w.config() + ", fp32 activations (QuantGate's packing, read in place)";
            }

            @Override
            public long preparedBytes() {
                return w.packedBytes();
            }

            @Override
            public void gemm(MemorySegment x, int m, long ldx, MemorySegment y, long ldy) {
                int rc;
                try {
                    rc = (int) gemm.invokeExact(w.codes(), w.scales(), w.rows(), w.cols(), w.groupSize(), x, m, ldx, y,
                            ldy);
                } catch (Throwable t) {
                    throw new IllegalStateException("example_gemm_int4s failed: " + t, t);
                }
                if (rc != 0) {
                    throw new IllegalStateException("example_gemm_int4s refused the call (code " + rc + ")");
                }
            }

            @Override
            public void close() {
                // the weights belong to QuantGate
            }
        };
    }

    /** The same kernel with a regression: one more pass over its weights per call. */
    public static final class ExtraPass extends CKernel {
        public ExtraPass() {
            super("example_gemm_int4s_extra_pass");
        }

        @Override
        public String name() {
            return "example-c-extra-pass";
        }
    }
}
