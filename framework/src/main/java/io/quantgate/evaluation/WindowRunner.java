package io.quantgate.evaluation;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * Runs windows 0 .. count-1 on {@code threads} platform threads, each with a resource of its own that it opens and
 * closes itself (a native lane and a model sequence are bound to their thread), taking the next window as it finishes
 * one; the calling thread sees the windows finish in window order ({@code inOrder}), so that what it adds up (running
 * perplexity, progress) comes out as a sequential run would. A failure stops the threads after the windows they are in;
 * the failure of the lowest window is thrown.
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
        AtomicInteger next = new AtomicInteger();
        Thread[] workers = new Thread[threads];
        final int threadDone = -1;
        for (int t = 0; t < threads; t++) {
            workers[t] = Thread.ofPlatform().daemon().name("quantgate-window-" + t).unstarted(() -> {
                try (S resource = open.get()) {
                    for (int i; failures.isEmpty() && (i = next.getAndIncrement()) < count; ) {
                        try {
                            task.run(resource, i);
                        } catch (RuntimeException | Error e) {
                            failures.put(i, e);
                            break;
                        }
                        finished.add(i);
                    }
                } catch (Throwable e) { // opening or closing the resource
                    failures.putIfAbsent(-1, e);
                } finally {
                    finished.add(threadDone);
                }
            });
            workers[t].start();
        }
        boolean[] done = new boolean[count];
        int cursor = 0;
        RuntimeException callback = null;
        try {
            for (int live = threads; live > 0; ) {
                int i = finished.take();
                if (i == threadDone) {
                    live--;
                    continue;
                }
                done[i] = true;
                while (callback == null && cursor < count && done[cursor]) {
                    try {
                        inOrder.accept(cursor++);
                    } catch (RuntimeException e) { // the caller's own (a progress listener): stop the threads, keep it
                        callback = e;
                        failures.putIfAbsent(Integer.MAX_VALUE, e);
                    }
                }
            }
        } catch (InterruptedException e) {
            failures.putIfAbsent(Integer.MAX_VALUE, e);
            joinAll(workers);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while evaluating windows", e);
        }
        joinAll(workers);
        if (!failures.isEmpty()) {
            Throwable first = callback != null ? callback : failures.values().iterator().next();
            if (first instanceof RuntimeException r) {
                throw r;
            }
            if (first instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(first.getMessage(), first);
        }
    }

    private static void joinAll(Thread[] workers) {
        boolean interrupted = false;
        for (Thread w : workers) {
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
