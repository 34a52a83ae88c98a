package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The unique-token count is the size of the sequences' token trie. */
class IterationClockTest {
    @Test
    void aGroupSharesItsPromptATreeItsUpperSegments() {
        int[] prompt = {1, 2, 3, 4, 5};
        // GRPO: 3 responses to one prompt, two of them sharing their first token.
        List<int[]> q = List.of(prompt, prompt, prompt);
        List<int[]> r = List.of(new int[] {7, 8}, new int[] {7, 9, 9}, new int[] {6});
        assertEquals(15 + 6, IterationClock.totalTokens(q, r));
        assertEquals(5 + 1 + 1 + 2 + 1, IterationClock.uniqueTokens(q, r));
        // A 2-2 tree's six edges as the training sees them: query = prompt + ancestors, target = the segment.
        int[] a = {10, 11}, b = {12, 13}, aa = {20}, ab = {21}, ba = {22}, bb = {23};
        List<int[]> edgeQueries =
                List.of(prompt, prompt, cat(prompt, a), cat(prompt, a), cat(prompt, b), cat(prompt, b));
        List<int[]> edges = List.of(a, b, aa, ab, ba, bb);
        assertEquals(2 * 7 + 4 * 8, IterationClock.totalTokens(edgeQueries, edges));
        assertEquals(5 + 2 + 2 + 4, IterationClock.uniqueTokens(edgeQueries, edges));
    }

    @Test
    void duplicatesEmptyTargetsAndNothing() {
        int[] p = {4, 4};
        assertEquals(2, IterationClock.uniqueTokens(List.of(p, p), List.of(new int[0], new int[0])));
        assertEquals(3, IterationClock.uniqueTokens(List.of(p, p), List.of(new int[] {1}, new int[] {1})));
        assertEquals(0, IterationClock.uniqueTokens(List.of(), List.of()));
        // A sequence that is a prefix of another costs nothing more, in either order.
        assertEquals(4, IterationClock.uniqueTokens(List.of(p, p), List.of(new int[] {1, 2}, new int[] {1})));
        assertThrows(IllegalArgumentException.class, () -> IterationClock.uniqueTokens(List.of(p), List.of()));
    }

    @Test
    void equalsTheTrieOfRandomRaggedSequences() {
        Random random = new Random(99);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(12);
            List<int[]> q = new ArrayList<>(), t = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                // A small alphabet and short lengths make shared prefixes common.
                q.add(random.ints(1 + random.nextInt(4), 0, 3).toArray());
                t.add(random.ints(random.nextInt(5), 0, 3).toArray());
            }
            Set<List<Integer>> prefixes = new HashSet<>();
            for (int i = 0; i < n; i++) {
                List<Integer> s = new ArrayList<>();
                for (int x : cat(q.get(i), t.get(i))) {
                    s.add(x);
                    prefixes.add(List.copyOf(s));
                }
            }
            assertEquals(prefixes.size(), IterationClock.uniqueTokens(q, t), "trial " + trial);
        }
    }

    private static int[] cat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
