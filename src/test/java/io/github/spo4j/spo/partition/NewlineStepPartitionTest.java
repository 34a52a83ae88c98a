package io.github.spo4j.spo.partition;

import static io.github.spo4j.spo.partition.SimplePartitionsTest.describe;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.spo.data.TokenTextDecoder;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.tasks.FinishReason;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** VinePPO's GSM8K step split (SPO_SPEC §8) on text, and its token mapping by first character. */
class NewlineStepPartitionTest {

    /** A trajectory whose token t decodes to pieces[t] (token ids are indices into pieces). */
    private static Partition splitPieces(String... pieces) {
        return partitionOf(pieces).split(trajectoryOf(pieces));
    }

    private static int[] stepsOfPieces(String... pieces) {
        return partitionOf(pieces).tokenSteps(trajectoryOf(pieces));
    }

    private static NewlineStepPartition partitionOf(String[] pieces) {
        return new NewlineStepPartition(TokenTextDecoder.perToken(id -> pieces[id]));
    }

    private static Trajectory trajectoryOf(String[] pieces) {
        int[] ids = new int[pieces.length];
        for (int t = 0; t < ids.length; t++) ids[t] = t;
        return new Trajectory(0, new int[] {1}, ids, new float[ids.length], 1, FinishReason.EOS);
    }

    @Test
    void splitsOnNewlinesKeepingTheLeadingNewline() {
        // "a" | "\nb" | "\nc"
        assertArrayEquals(new int[] {0, 1, 3, 5}, NewlineStepPartition.stepBoundaries("a\nb\nc"));
    }

    @Test
    void leadingEmptyLinesJoinTheFirstNonEmptyStep() {
        // "\n\nx" | "\ny"
        assertArrayEquals(new int[] {0, 3, 5}, NewlineStepPartition.stepBoundaries("\n\nx\ny"));
        // Lines of spaces are blank too (Python's strip): " \n  \nx" is one step.
        assertArrayEquals(new int[] {0, 6}, NewlineStepPartition.stepBoundaries(" \n  \nx"));
        // Nothing but blank lines: no merge, as in the reference.
        assertArrayEquals(new int[] {0, 0, 1, 2}, NewlineStepPartition.stepBoundaries("\n\n"));
    }

    @Test
    void answerTailJoinsTheLastStep() {
        // "a" | "\nb\n#### 42"
        assertArrayEquals(new int[] {0, 1, 11}, NewlineStepPartition.stepBoundaries("a\nb\n#### 42"));
        // Blank lines before the tail join it with the last non-blank step: one step.
        assertArrayEquals(new int[] {0, 10}, NewlineStepPartition.stepBoundaries("a\n\n\n#### 5"));
        // A response that is only the tail.
        assertArrayEquals(new int[] {0, 7}, NewlineStepPartition.stepBoundaries("\n#### 5"));
        // Two tails: everything from the first one is the last step.
        assertArrayEquals(new int[] {0, 15}, NewlineStepPartition.stepBoundaries("x\n#### 3\n#### 4"));
        // "####" not after a newline is not the answer prefix.
        assertArrayEquals(new int[] {0, 6}, NewlineStepPartition.stepBoundaries("#### 5"));
    }

    @Test
    void withoutATailTrailingNewlinesAreSteps() {
        // "a" | "\nb" | "\n"
        assertArrayEquals(new int[] {0, 1, 3, 4}, NewlineStepPartition.stepBoundaries("a\nb\n"));
        assertArrayEquals(new int[] {0, 0}, NewlineStepPartition.stepBoundaries(""));
    }

    @Test
    void stepsJoinToTheTextAndFollowTheRules() {
        Random rng = new Random(11);
        String[] alphabet = {"a", "7", " ", "\n", "\n", "#", "\n#### ", "x=1"};
        for (int trial = 0; trial < 3000; trial++) {
            StringBuilder sb = new StringBuilder();
            int n = rng.nextInt(14);
            for (int i = 0; i < n; i++) sb.append(alphabet[rng.nextInt(alphabet.length)]);
            String text = sb.toString();
            int[] b = NewlineStepPartition.stepBoundaries(text);
            assertEquals(0, b[0], text);
            assertEquals(text.length(), b[b.length - 1], text);
            StringBuilder joined = new StringBuilder();
            int tail = text.indexOf(NewlineStepPartition.ANSWER_PREFIX);
            for (int i = 0; i + 1 < b.length; i++) {
                String step = text.substring(b[i], b[i + 1]);
                joined.append(step);
                if (i > 0) {
                    assertTrue(step.startsWith("\n"), "step " + i + " of " + escape(text));
                    assertTrue(step.length() > 0);
                }
                boolean last = i + 2 == b.length;
                if (last && tail >= 0) {
                    assertTrue(b[i] <= tail, "the tail must be in the last step: " + escape(text));
                } else if (i > 0) {
                    assertEquals(-1, step.indexOf('\n', 1), "one line per middle step: " + escape(text));
                } else {
                    // The first step: blank lines, then at most one non-blank line.
                    String[] lines = step.split("\n", -1);
                    for (int k = 0; k + 1 < lines.length; k++) assertTrue(lines[k].isBlank(), escape(text));
                }
            }
            assertEquals(text, joined.toString());
        }
    }

    private static String escape(String s) {
        return s.replace("\n", "\\n");
    }

    @Test
    void tokensBelongToTheStepOfTheirFirstCharacter() {
        // "ab" | "\ncd\n#### 42"
        assertArrayEquals(new int[] {0, 1, 1, 1, 1}, stepsOfPieces("ab", "\nc", "d", "\n####", " 42"));
        assertEquals("pre 0 [0,1) [1,5)", describe(splitPieces("ab", "\nc", "d", "\n####", " 42")));
        // "b\nc" starts with 'b', in step 0, though it also holds step 1's newline.
        assertArrayEquals(new int[] {0, 0, 1}, stepsOfPieces("a", "b\nc", "d"));
        assertEquals("pre 0 [0,2) [2,3)", describe(splitPieces("a", "b\nc", "d")));
        // Leading newline tokens belong to the first step.
        assertArrayEquals(new int[] {0, 0, 0, 1, 1}, stepsOfPieces("\n", "\n", "x", "\n", "y"));
    }

    @Test
    void emptyPiecesAndTokenlessSteps() {
        // An empty piece starts where the next character is: the "\n" of step 1.
        assertArrayEquals(new int[] {0, 1, 1}, stepsOfPieces("a", "", "\nb"));
        // An empty piece at the very end belongs to the last step.
        assertArrayEquals(new int[] {0, 1, 1}, stepsOfPieces("a", "\nb", ""));
        // No text at all: one (empty) step holding every token.
        assertArrayEquals(new int[] {0, 0}, stepsOfPieces("", ""));
        assertEquals("pre 0 [0,2)", describe(splitPieces("", "")));
        // Step 2 ("\nc") starts inside token 1: it gets no token and no segment.
        assertArrayEquals(new int[] {0, 1}, stepsOfPieces("a", "\nb\nc"));
        assertEquals("pre 0 [0,1) [1,2)", describe(splitPieces("a", "\nb\nc")));
        assertEquals("pre 0", describe(splitPieces()));
    }
}
