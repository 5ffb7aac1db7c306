package io.quantgate.evaluation;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * Runs windows 0 .. count-1 on {@code threads} platform threads, each with a resource of its own that it opens and
 * closes itself (a native lane and a model sequence are bound to their thread), taking the next window as it finishes
 * one; the calling thread sees the windows finish in window order ({@code inOrder}), so that what it adds up (running
 * perplexity, progress) comes out as a sequential run would. A failure stops the threads after the windows they are in;
 * the failure of the lowest window is thrown (the caller's own, from {@code inOrder}, before any). The threads have
 * ended whenever this returns or throws.
 */
final class WindowRunner {

    private WindowRunner() {
    }

    /** One window's work on a thread's resource. */
    interface Task<S> {
        void run(S resource, int window);
    }

    static <S extends AutoCloseable> void run(int count, int threads, Supplier<S> open, Task<S> task,
                                              IntConsumer inOrder) {
        LinkedBlockingQueue<Integer> finished = new LinkedBlockingQueue<>();
        Map<Integer, Throwable> failures = new ConcurrentSkipListMap<>(); // by window; -1: a resource
        AtomicBoolean stop = new AtomicBoolean(); // a failure anywhere, or the caller leaving early
        AtomicInteger next = new AtomicInteger();
        Thread[] workers = new Thread[threads];
        final int threadDone = -1;
        int started = 0;
        Throwable callerFailure = null;
        boolean interrupted = false;
        try {
            for (int t = 0; t < threads; t++) {
                workers[t] = Thread.ofPlatform().daemon().name("quantgate-window-" + t).unstarted(() -> {
                    try (S resource = open.get()) {
                        for (int i; !stop.get() && (i = next.getAndIncrement()) < count; ) {
                            try {
                                task.run(resource, i);
                            } catch (RuntimeException | Error e) {
                                failures.put(i, e);
                                stop.set(true);
                                break;
                            }
                            finished.add(i);
                        }
                    } catch (Throwable e) { // opening or closing the resource
                        failures.putIfAbsent(-1, e);
                        stop.set(true);
                    } finally {
                        finished.add(threadDone);
                    }
                });
                workers[t].start();
                started++;
            }
            boolean[] done = new boolean[count];
            int cursor = 0;
            for (int live = started; live > 0; ) {
                int i = finished.take();
                if (i == threadDone) {
                    live--;
                    continue;
                }
                done[i] = true;
                while (callerFailure == null && cursor < count && done[cursor]) {
                    try {
                        inOrder.accept(cursor++);
                    } catch (RuntimeException | Error e) { // the caller's own (a progress listener): it wins
                        callerFailure = e;
                        stop.set(true);
                    }
                }
            }
        } catch (InterruptedException e) {
            interrupted = true;
        } catch (RuntimeException | Error e) { // a thread that could not start
            callerFailure = e;
        } finally {
            stop.set(true); // a no-op when every window ran; otherwise the workers stop after the window they are in
            joinAll(workers, started);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while evaluating windows");
        }
        Throwable first = callerFailure != null ? callerFailure
                : failures.isEmpty() ? null : failures.values().iterator().next();
        if (first instanceof RuntimeException r) {
            throw r;
        }
        if (first instanceof Error err) {
            throw err;
        }
        if (first != null) {
            throw new IllegalStateException(first.getMessage(), first);
        }
    }

    /** Waits for the first {@code started} workers, however often this thread is interrupted meanwhile. */
    private static void joinAll(Thread[] workers, int started) {
        boolean interrupted = false;
        for (int t = 0; t < started; t++) {
            Thread w = workers[t];
            while (true) {
                try {
                    w.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
