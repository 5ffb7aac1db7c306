package io.quantgate.backend.onnxruntime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;

/**
 * The one ONNX Runtime environment of the JVM, with one global intra-op thread pool that every session shares
 * ({@code SessionOptions.disablePerSessionThreads()}), as an application serving a whole model does. The benchmark
 * opens one session per rotated copy of a layer; with a pool per session, 2 cores carried 8–16 pools whose workers
 * spin after each run (see docs/backends.md, "Kernels vs ONNX Runtime").
 *
 * <p>Its workers do not spin after a run ({@code -Dquantgate.onnx.spin=true} lets them): a spinning pool takes
 * the cores from whatever is timed next. {@code -Dquantgate.onnx.threads=N} sizes the pool (default: as many threads as the native kernels use); {@code -Dquantgate.onnx.perSessionThreads=true}
 * goes back to a pool per session; {@code -Dquantgate.onnx.log=info} shows ORT's INFO log (e.g. its "Falling back to
 * using unpacked compute mode" line when MatMulNBits misses its fast path).
 */
final class OnnxEnvironment {
    private static OrtEnvironment env;

    private OnnxEnvironment() {
    }

    static boolean perSessionThreads() {
        return Boolean.getBoolean("quantgate.onnx.perSessionThreads");
    }

    static synchronized OrtEnvironment get() {
        if (env == null) {
            OrtLoggingLevel level = "info".equalsIgnoreCase(System.getProperty("quantgate.onnx.log"))
                    ? OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO : OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING;
            if (perSessionThreads()) {
                env = OrtEnvironment.getEnvironment(level, "quantgate");
            } else {
                int threads = Integer.getInteger("quantgate.onnx.threads",
                        io.quantgate.kernels.nativeimpl.NativeKernels.threads());
                try (OrtEnvironment.ThreadingOptions t = new OrtEnvironment.ThreadingOptions()) {
                    t.setGlobalIntraOpNumThreads(threads);
                    t.setGlobalInterOpNumThreads(1);
                    // spinning after a run keeps both cores busy while the next subject (our kernel) is timed
                    t.setGlobalSpinControl(Boolean.parseBoolean(System.getProperty("quantgate.onnx.spin", "false")));
                    env = OrtEnvironment.getEnvironment(level, "quantgate", t);
                } catch (OrtException e) {
                    throw new IllegalStateException("ONNX Runtime refused a global pool of " + threads + " threads: "
                            + e.getMessage(), e);
                }
            }
        }
        return env;
    }
}
