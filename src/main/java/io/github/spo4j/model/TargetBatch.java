package io.github.spo4j.model;

import java.util.Arrays;

/**
 * A batch for the training forward: B token sequences, and for each the number of leading context tokens (the
 * query) whose own log-probs are not wanted. The targets are the tokens at positions {@code contextLength(b) ..
 * length − 1} of every sequence, flat and in order: sequence b's targets are entries {@code seqOffsets()[b] ..
 * seqOffsets()[b + 1]} of the result, the ragged layout of the policy-loss kernel.
 *
 * <p>Immutable; arrays are copied in and out.
 */
public final class TargetBatch {
    private final int[][] sequences;
    private final int[] contextLengths;
    private final int[] seqOffsets;
    private final int maxLength;

    /**
     * @param sequences      [B] token arrays, each non-empty
     * @param contextLengths [B] in [1, sequences[b].length]: position 0 has nothing to predict it
     */
    public TargetBatch(int[][] sequences, int[] contextLengths) {
        if (sequences == null) throw new IllegalArgumentException("sequences must not be null");
        if (contextLengths == null) throw new IllegalArgumentException("contextLengths must not be null");
        if (contextLengths.length != sequences.length) {
            throw new IllegalArgumentException("contextLengths has " + contextLengths.length + " entries but there are "
                    + sequences.length + " sequences");
        }
        if (sequences.length == 0) throw new IllegalArgumentException("sequences must not be empty");
        this.sequences = new int[sequences.length][];
        this.contextLengths = contextLengths.clone();
        this.seqOffsets = new int[sequences.length + 1];
        int max = 0;
        for (int b = 0; b < sequences.length; b++) {
            if (sequences[b] == null || sequences[b].length == 0) {
                throw new IllegalArgumentException("sequences[" + b + "] must hold at least one token");
            }
            int len = sequences[b].length;
            if (contextLengths[b] < 1 || contextLengths[b] > len) {
                throw new IllegalArgumentException("contextLengths[" + b + "] = " + contextLengths[b]
                        + " must be in [1, " + len + "] (the sequence's length; position 0 has no prediction)");
            }
            this.sequences[b] = sequences[b].clone();
            seqOffsets[b + 1] = Math.addExact(seqOffsets[b], len - contextLengths[b]);
            max = Math.max(max, len);
        }
        maxLength = max;
    }

    /** One sequence per query/response pair: targets are the response tokens. */
    public static TargetBatch ofPairs(int[][] queries, int[][] responses) {
        if (queries == null) throw new IllegalArgumentException("queries must not be null");
        if (responses == null) throw new IllegalArgumentException("responses must not be null");
        if (queries.length != responses.length) {
            throw new IllegalArgumentException(
                    "queries has " + queries.length + " entries but responses has " + responses.length);
        }
        int[][] seqs = new int[queries.length][];
        int[] ctx = new int[queries.length];
        for (int b = 0; b < queries.length; b++) {
            if (queries[b] == null || queries[b].length == 0) {
                throw new IllegalArgumentException("queries[" + b + "] must hold at least one token");
            }
            if (responses[b] == null) throw new IllegalArgumentException("responses[" + b + "] must not be null");
            seqs[b] = Arrays.copyOf(queries[b], queries[b].length + responses[b].length);
            System.arraycopy(responses[b], 0, seqs[b], queries[b].length, responses[b].length);
            ctx[b] = queries[b].length;
        }
        return new TargetBatch(seqs, ctx);
    }

    public int numSequences() {
        return sequences.length;
    }

    /** N, the number of target tokens. */
    public int numTargets() {
        return seqOffsets[sequences.length];
    }

    public int maxLength() {
        return maxLength;
    }

    /** A copy of sequence b. */
    public int[] sequence(int b) {
        return sequences[b].clone();
    }

    public int contextLength(int b) {
        return contextLengths[b];
    }

    /** [B + 1] where each sequence's targets start in the flat result. */
    public int[] seqOffsets() {
        return seqOffsets.clone();
    }

    /** [N] the target tokens, flat. */
    public int[] targets() {
        int[] t = new int[numTargets()];
        for (int b = 0, k = 0; b < sequences.length; b++) {
            for (int i = contextLengths[b]; i < sequences[b].length; i++) t[k++] = sequences[b][i];
        }
        return t;
    }

    /** Σ of the sequences' lengths: the tokens a forward over the padded or ragged batch computes. */
    public long totalTokens() {
        long n = 0;
        for (int[] s : sequences) n += s.length;
        return n;
    }

    /**
     * The distinct prefixes of the sequences, the nodes of their token trie: the tokens a forward that computes each
     * shared prefix once (a group's prompt, a tree's upper segments) would compute. In lexicographic order a
     * sequence's longest common prefix with any earlier one is the one with its predecessor, so
     * <pre>
     *   unique = Σ_i |s_i| − Σ_{i&gt;0} lcp(s_(i−1), s_(i))   over the sequences sorted.
     * </pre>
     */
    public long uniqueTokens() {
        int[][] sorted = sequences.clone();
        Arrays.sort(sorted, Arrays::compare);
        long unique = 0;
        int[] previous = new int[0];
        for (int[] s : sorted) {
            int m = Arrays.mismatch(previous, s);
            unique += s.length - (m < 0 ? s.length : m);
            previous = s;
        }
        return unique;
    }

    void checkVocab(int vocab, String name) {
        for (int b = 0; b < sequences.length; b++) {
            for (int i = 0; i < sequences[b].length; i++) {
                int id = sequences[b][i];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException(name + " sequence " + b + " position " + i + " holds id " + id
                            + ", outside [0, V = " + vocab + ")");
                }
            }
        }
    }
}
