package io.quantgate.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A throughput measurement: one workload, the subjects timed in the same interleaved rounds (with the bandwidth
 * probe), and which subject is compared with which. One row comes out per comparison.
 *
 * @param comparisons {@code (subject, reference)} index pairs into {@code subjects}; a reference of {@code -1} means
 *                    the row has no speedup (rates and bandwidth only)
 */
public record ThroughputPlan(Workload workload, List<Subject> subjects, List<Comparison> comparisons,
                             Sampling sampling) {

    /** Row {@code subject} against {@code reference} (indices into the plan's subjects; reference -1: none). */
    public record Comparison(int subject, int reference) {
    }

    public ThroughputPlan {
        Objects.requireNonNull(workload, "workload");
        Objects.requireNonNull(sampling, "sampling");
        subjects = List.copyOf(subjects);
        comparisons = List.copyOf(comparisons);
        if (subjects.isEmpty() || comparisons.isEmpty()) {
            throw new IllegalArgumentException("a throughput plan needs at least one subject and one row");
        }
        for (Subject s : subjects) {
            if (s.isKernel() == workload.modelLevel()) {
                throw new IllegalArgumentException(workload.label() + " is a " + workload.level() + " workload: "
                        + s.describe() + " is a " + (s.isKernel() ? "kernel" : "whole-model") + " subject");
            }
        }
        for (Comparison c : comparisons) {
            if (c.subject() < 0 || c.subject() >= subjects.size() || c.reference() < -1
                    || c.reference() >= subjects.size()) {
                throw new IllegalArgumentException("comparison " + c + " is outside the " + subjects.size()
                        + " subjects");
            }
        }
    }

    /** Every subject against one reference, which is timed in the same rounds (index 0 of the plan's subjects). */
    public static ThroughputPlan against(Workload workload, Subject reference, List<Subject> subjects,
                                         Sampling sampling) {
        List<Subject> all = new ArrayList<>();
        all.add(reference);
        all.addAll(subjects);
        List<Comparison> rows = new ArrayList<>();
        for (int i = 1; i < all.size(); i++) {
            rows.add(new Comparison(i, 0));
        }
        return new ThroughputPlan(workload, all, rows, sampling);
    }

    /** Subjects without a reference: one row each with rates and bandwidth, no speedup. */
    public static ThroughputPlan alone(Workload workload, List<Subject> subjects, Sampling sampling) {
        List<Comparison> rows = new ArrayList<>();
        for (int i = 0; i < subjects.size(); i++) {
            rows.add(new Comparison(i, -1));
        }
        return new ThroughputPlan(workload, subjects, rows, sampling);
    }
}
