package io.quantgate.junit;

import java.util.concurrent.locks.ReentrantLock;

/**
 * One measurement at a time in this JVM. The native kernels' thread pool serves one caller at a time, a
 * {@link io.quantgate.runtime.model.LlamaModel} is not thread-safe, and two timings running side by side
 * would each measure the other's load. So under JUnit's parallel execution the bookkeeping runs in parallel
 * but every measurement (and every test body that receives a model) holds this lock.
 */
final class NativeAccess {
    static final ReentrantLock LOCK = new ReentrantLock(true);

    private NativeAccess() {
    }
}
