package io.quantgate.runtime.tokenizer;

import java.util.Arrays;

/**
 * The BPE merge loop shared by every tokenizer here: repeatedly merge the adjacent pair with the lowest
 * {@link MergeTable} rank, the leftmost such pair on ties, until no adjacent pair merges.
 *
 * <p>The textbook loop rescans all pairs per merge, O(n²) (llama2.c's {@code run.c} does). Here the tokens
 * are a doubly linked list and the candidate pairs sit in a binary heap keyed by {@code (rank, left
 * position)}, so n symbols take O(n log n). A merge changes only the pairs next to it; their new candidates
 * are pushed and the old ones stay in the heap. A popped candidate is used only if the pair now at its
 * position still merges into the same piece (the check Hugging Face's {@code Word::merge_all} makes): a
 * position's pair only changes by growing, and a longer concatenation is a different piece, so stale
 * candidates are exactly the ones that fail the check.
 *
 * <p>Symbols added one by one with {@link #append} are cut where no merge can cross ({@link CodePointPairs})
 * and each stretch is merged on its own: the result is the same, and small heaps are much faster than one
 * over a whole file. An instance reuses its scratch arrays, so it belongs to one thread (one encode call).
 */
final class BpeMerger {
    private final MergeTable table;
    private final CodePointPairs joinable;
    private final String[] symbolText;
    private final MergeListener listener;
    // the sequence being built by append()
    private int[] out;
    private int count;
    private int stretchStart;
    // scratch space reused across calls: one merger serves all the words of one encode call
    private int[] token = new int[16];
    private int[] next = new int[16];
    private int[] prev = new int[16];
    private final CandidateHeap heap = new CandidateHeap(16);

    /** Receives each merge as it is made (left and right ids before, merged id after). */
    interface MergeListener {
        void merged(int left, int right, int merged);
    }

    /**
     * @param joinable   the code point pairs inside merge results, so that {@link #append} can merge each
     *                   stretch between uncrossable boundaries on its own; null to merge all at once
     * @param symbolText the text of each id, whose first and last code points decide the boundaries
     *                   (needed with {@code joinable})
     * @param listener   told about every merge, or null
     */
    BpeMerger(MergeTable table, CodePointPairs joinable, String[] symbolText, MergeListener listener) {
        this.table = table;
        this.joinable = joinable;
        this.symbolText = symbolText;
        this.listener = listener;
    }

    /** Starts a sequence of symbols that {@link #append} writes to {@code buffer} from index {@code from}. */
    void begin(int[] buffer, int from) {
        out = buffer;
        count = from;
        stretchStart = from;
    }

    /**
     * Appends a symbol; when no merge can join it to the symbol before it, the stretch before it is merged
     * first. The buffer must have room for every symbol appended.
     */
    void append(int id) {
        if (count > stretchStart && joinable != null && !joinable.mayJoin(lastCodePoint(out[count - 1]), firstCodePoint(id))) {
            count = merge(out, stretchStart, count);
            stretchStart = count;
        }
        out[count++] = id;
    }

    /** Merges what is left and returns the end of the merged sequence in the buffer. */
    int finish() {
        count = merge(out, stretchStart, count);
        stretchStart = count;
        return count;
    }

    private int firstCodePoint(int id) {
        return symbolText[id].codePointAt(0);
    }

    private int lastCodePoint(int id) {
        String s = symbolText[id];
        return s.codePointBefore(s.length());
    }

    /**
     * Merges {@code tokens[from..to)} in place.
     *
     * @return the new end of the merged tokens ({@code from + count})
     */
    int merge(int[] tokens, int from, int to) {
        int n = to - from;
        if (n < 2) {
            return to;
        }
        if (token.length < n) {
            int capacity = Math.max(n, token.length * 2);
            token = new int[capacity];
            next = new int[capacity];
            prev = new int[capacity];
        }
        System.arraycopy(tokens, from, token, 0, n);
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        heap.clear();
        for (int i = 0; i + 1 < n; i++) {
            offer(i, i + 1);
        }
        while (!heap.isEmpty()) {
            int left = heap.topPosition();
            int merged = heap.topMerged();
            heap.pop();
            int right = token[left] < 0 ? -1 : next[left];
            if (right < 0) {
                continue; // merged away, or no longer has a right neighbour
            }
            long rule = table.get(token[left], token[right]);
            if (rule == MergeTable.NONE || MergeTable.merged(rule) != merged) {
                continue; // stale: the pair at this position has changed since the candidate was pushed
            }
            if (listener != null) {
                listener.merged(token[left], token[right], merged);
            }
            token[left] = merged;
            token[right] = -1;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(prev[left], left);
            }
            if (next[left] >= 0) {
                offer(left, next[left]);
            }
        }
        int out = from;
        for (int i = 0; i >= 0; i = next[i]) {
            tokens[out++] = token[i];
        }
        return out;
    }

    private void offer(int left, int right) {
        long rule = table.get(token[left], token[right]);
        if (rule != MergeTable.NONE) {
            heap.push(((long) MergeTable.rank(rule) << 32) | left, MergeTable.merged(rule));
        }
    }

    /**
     * A binary min-heap of {@code (rank << 32 | left position)} keys, so the lowest rank comes first and
     * the leftmost position breaks ties, with the merged id carried alongside. Primitive arrays: a long
     * text pushes millions of candidates.
     */
    private static final class CandidateHeap {
        private long[] keys;
        private int[] merged;
        private int size;

        CandidateHeap(int capacity) {
            keys = new long[Math.max(4, capacity)];
            merged = new int[keys.length];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void clear() {
            size = 0;
        }

        int topPosition() {
            return (int) keys[0];
        }

        int topMerged() {
            return merged[0];
        }

        void push(long key, int mergedId) {
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                merged = Arrays.copyOf(merged, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (keys[parent] <= key) {
                    break;
                }
                keys[i] = keys[parent];
                merged[i] = merged[parent];
                i = parent;
            }
            keys[i] = key;
            merged[i] = mergedId;
        }

        void pop() {
            size--;
            if (size == 0) {
                return;
            }
            long key = keys[size];
            int m = merged[size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && keys[child + 1] < keys[child]) {
                    child++;
                }
                if (keys[child] >= key) {
                    break;
                }
                keys[i] = keys[child];
                merged[i] = merged[child];
                i = child;
            }
            keys[i] = key;
            merged[i] = m;
        }
    }
}
