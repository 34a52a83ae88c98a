package io.github.spo4j.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TasksTest {
    @TempDir
    Path dir;

    @Test
    void gsm8kExtractionTakesTheLastMarkerStripped() {
        assertEquals(Optional.of("72"), Gsm8kAnswers.extract("a\nb\n#### 72"));
        assertEquals(Optional.of("1,234"), Gsm8kAnswers.extract("#### 5\n####  1,234 \n"));
        assertEquals(Optional.of("-3"), Gsm8kAnswers.extract("so ####-3"));
        assertEquals(Optional.empty(), Gsm8kAnswers.extract("the answer is 72"));
        assertEquals(Optional.empty(), Gsm8kAnswers.extract("#### "));
    }

    @Test
    void gsm8kCorrectnessIgnoresCommasAndCase() {
        assertTrue(Gsm8kAnswers.isCorrect("1,234", "1234"));
        assertTrue(Gsm8kAnswers.isCorrect("Yes", "yes"));
        assertFalse(Gsm8kAnswers.isCorrect("-5", "5"));
        assertFalse(Gsm8kAnswers.isCorrect("5.0", "5"), "the reference compares strings, not numbers");
    }

    @Test
    void gsm8kRewardFollowsTheReference() {
        assertEquals(1.0, Gsm8kAnswers.reward("x\n#### 1,000", "1000", FinishReason.EOS));
        assertEquals(1.0, Gsm8kAnswers.reward("x\n#### 7", "7", FinishReason.STOP));
        assertEquals(0.0, Gsm8kAnswers.reward("x\n#### 8", "7", FinishReason.EOS), "wrong");
        assertEquals(0.0, Gsm8kAnswers.reward("x = 7", "7", FinishReason.EOS), "no answer");
        assertEquals(0.0, Gsm8kAnswers.reward("x\n#### 7", "7", FinishReason.LENGTH), "truncated");
        assertEquals(-2.0, Gsm8kAnswers.reward("#### 7\n#### 7", "7", FinishReason.EOS), "two markers");
        assertEquals(-2.0, Gsm8kAnswers.reward("#### 7 ####", "7", FinishReason.LENGTH), "two markers, even truncated");
        assertEquals(2, Gsm8kAnswers.markers("########## 1"), "non-overlapping count: #### #### ##");
    }

    @Test
    void arithmeticProblemsAreDeterministicSolvableAndInRange() {
        ArithmeticTask task = new ArithmeticTask(ArithmeticTask.Difficulty.standard());
        List<Problem> a = task.generate(500, 10, 42);
        assertEquals(a, task.generate(500, 10, 42));
        assertTrue(!a.equals(task.generate(500, 10, 43)));
        for (int i = 0; i < a.size(); i++) {
            Problem p = a.get(i);
            assertEquals(10 + i, p.id());
            assertTrue(p.question().endsWith("="), p.question());
            String[] lines = p.solution().split("\n");
            int steps = lines.length - 1;
            assertTrue(steps >= 2 && steps <= 4, p.solution());
            int value = -1;
            for (int s = 0; s < steps; s++) {
                String[] eq = lines[s].split("=");
                int result = Integer.parseInt(eq[1]);
                assertEquals(result, leftToRight(eq[0]), lines[s]);
                assertTrue(result >= 0 && result <= 999);
                value = result;
            }
            assertEquals("#### " + value, lines[steps]);
            assertEquals(Integer.toString(value), p.answer());
            assertEquals(
                    value, leftToRight(p.question().substring(0, p.question().length() - 1)));
            assertTrue(ArithmeticTask.isCorrect(p, p.solution()));
            assertFalse(ArithmeticTask.isCorrect(p, p.solution().replace("#### " + value, "#### " + (value + 1))));
            assertTrue((p.question() + p.solution()).chars().allMatch(c -> "0123456789+-*= \n#".indexOf(c) >= 0));
        }
    }

    @Test
    void difficultyKnobsAreHonouredAndImpossibleOnesAreClear() {
        ArithmeticTask adds = new ArithmeticTask(new ArithmeticTask.Difficulty(1, 1, 9, 18, "+"));
        for (Problem p : adds.generate(100, 0, 1)) {
            assertTrue(p.question().matches("\\d\\+\\d="), p.question());
        }
        assertThrows(IllegalArgumentException.class, () -> new ArithmeticTask.Difficulty(0, 1, 9, 9, "+"));
        assertThrows(IllegalArgumentException.class, () -> new ArithmeticTask.Difficulty(3, 2, 9, 9, "+"));
        assertThrows(IllegalArgumentException.class, () -> new ArithmeticTask.Difficulty(1, 2, 9, 9, "/"));
        assertThrows(IllegalArgumentException.class, () -> new ArithmeticTask.Difficulty(1, 2, 9, 5, "+"));
        ArithmeticTask impossible = new ArithmeticTask(new ArithmeticTask.Difficulty(5, 5, 2, 2, "-"));
        assertThrows(IllegalStateException.class, () -> impossible.generate(1, 0, 1));
    }

    @Test
    void chainProblemsHaveOneDecidedDigitPerLineAndAnyOneWrongLineDoomsTheAnswer() {
        for (int modulus : new int[] {3, 7, 10, 13, 36}) {
            for (int decisions : new int[] {1, 2, 9}) {
                ChainTask task = new ChainTask(new ChainTask.Difficulty(decisions, modulus, "+-*"));
                List<Problem> a = task.generate(300, 5, 11);
                assertEquals(a, task.generate(300, 5, 11));
                assertFalse(a.equals(task.generate(300, 5, 12)));
                for (int i = 0; i < a.size(); i++) {
                    Problem p = a.get(i);
                    assertEquals(5 + i, p.id());
                    assertEquals(2 * decisions + 2, p.question().length(), p.question());
                    assertEquals(6 * decisions + 6, p.solution().length(), p.solution());
                    String[] lines = p.solution().split("\n");
                    assertEquals(decisions + 1, lines.length);
                    int value = digit(p.question().charAt(0));
                    for (int s = 0; s < decisions; s++) {
                        assertTrue(lines[s].matches("[0-9a-z][-+*][0-9a-z]=[0-9a-z]"), lines[s]);
                        char op = lines[s].charAt(1);
                        int operand = digit(lines[s].charAt(2));
                        assertEquals(p.question().substring(1 + 2 * s, 3 + 2 * s), lines[s].substring(1, 3));
                        assertEquals(value, digit(lines[s].charAt(0)), "a line starts from the previous result");
                        assertTrue(operand >= 1 && operand < modulus);
                        if (op == '*') assertTrue(operand > 1 && gcd(operand, modulus) == 1, "a unit: " + lines[s]);
                        int expected = Math.floorMod(
                                op == '+' ? value + operand : op == '-' ? value - operand : value * operand, modulus);
                        assertEquals(expected, digit(lines[s].charAt(4)), lines[s]);
                        value = expected;
                    }
                    assertEquals("#### " + Character.forDigit(value, 36), lines[decisions]);
                    assertEquals(String.valueOf(Character.forDigit(value, 36)), p.answer());
                    assertTrue(ArithmeticTask.isCorrect(p, p.solution()));
                }
                for (Problem p : a.subList(0, 20)) {
                    // A wrong digit on line s carried on correctly from there never reaches the right answer.
                    for (int s = 0; s < decisions; s++) {
                        int wrong = Math.floorMod(digit(p.solution().charAt(6 * s + 4)) + 1, modulus);
                        assertFalse(carriedOn(p.question(), s, wrong, modulus).equals(p.answer()), p.question());
                    }
                }
            }
        }
        assertTrue(new ChainTask(ChainTask.Difficulty.of(4))
                .generate(50, 0, 1).stream()
                        .allMatch(p -> (p.question() + p.solution())
                                .chars()
                                .allMatch(c -> "0123456789+-*= \n#".indexOf(c) >= 0)));
        assertEquals(
                "modulus must be in [3, 36], got 37",
                assertThrows(IllegalArgumentException.class, () -> new ChainTask.Difficulty(2, 37, "+"))
                        .getMessage());
        // Past 9 the values are letters, one character each.
        assertEquals("z", ChainTask.digit(35));
        assertEquals("a", ChainTask.digit(10));
        ChainTask adds = new ChainTask(new ChainTask.Difficulty(3, 5, "+"));
        assertTrue(adds.generate(50, 0, 1).stream().allMatch(p -> p.question().matches("[0-4](\\+[1-4]){3}=")));
        assertThrows(IllegalArgumentException.class, () -> new ChainTask.Difficulty(0, 10, "+"));
        assertThrows(IllegalArgumentException.class, () -> new ChainTask.Difficulty(65, 10, "+"));
        assertThrows(IllegalArgumentException.class, () -> new ChainTask.Difficulty(2, 2, "+"));
        assertThrows(IllegalArgumentException.class, () -> new ChainTask.Difficulty(2, 10, "/"));
        assertThrows(IllegalArgumentException.class, () -> new ChainTask.Difficulty(2, 10, ""));
    }

    @Test
    void slippedChainsMoveALineToANeighbourAndCarryOnFromIt() {
        for (int modulus : new int[] {3, 10, 36}) {
            ChainTask task = new ChainTask(new ChainTask.Difficulty(9, modulus, "+-*"));
            List<Problem> problems = task.generate(300, 0, 7);
            SplittableRandom none = new SplittableRandom(5);
            for (Problem p : problems) assertEquals(p.solution(), task.slippedSolution(p, 0, none));
            assertEquals(new SplittableRandom(5).nextLong(), none.nextLong(), "rate 0 draws nothing");

            double rate = 0.3;
            SplittableRandom rng = new SplittableRandom(9);
            int lines = 0, slips = 0, up = 0, oneSlip = 0;
            for (Problem p : problems) {
                int slipsHere = 0;
                String slipped = task.slippedSolution(p, rate, rng);
                assertEquals(p.solution().length(), slipped.length(), slipped);
                String[] got = slipped.split("\n");
                int value = digit(p.question().charAt(0));
                for (int s = 0; s < 9; s++) {
                    assertEquals(value, digit(got[s].charAt(0)), "a line starts from the previous result: " + slipped);
                    assertEquals(p.question().substring(1 + 2 * s, 3 + 2 * s), got[s].substring(1, 3));
                    char op = got[s].charAt(1);
                    int operand = digit(got[s].charAt(2));
                    int right = Math.floorMod(
                            op == '+' ? value + operand : op == '-' ? value - operand : value * operand, modulus);
                    int result = digit(got[s].charAt(4));
                    int off = Math.floorMod(result - right, modulus);
                    assertTrue(off == 0 || off == 1 || off == modulus - 1, "right or a neighbour: " + got[s]);
                    lines++;
                    if (off != 0) {
                        slips++;
                        slipsHere++;
                        if (off == 1) up++;
                    }
                    value = result;
                }
                assertEquals("#### " + Character.forDigit(value, 36), got[9], "the answer follows the chain");
                if (slipsHere == 1) {
                    oneSlip++;
                    // Two slips may cancel; one never does, every operation being a bijection.
                    assertFalse(ArithmeticTask.isCorrect(p, slipped), "one slip dooms the answer: " + slipped);
                }
            }
            // 2,700 lines: the share of slips is within 4 standard errors (0.035) of the rate, both ways about equal.
            assertEquals(rate, (double) slips / lines, 0.035, "modulus " + modulus);
            assertEquals(0.5, (double) up / slips, 0.08, "modulus " + modulus);
            assertTrue(oneSlip > 30, "9 × 0.3 × 0.7^8 of the chains slip once: " + oneSlip);
            assertEquals(
                    task.slippedSolution(problems.get(3), rate, new SplittableRandom(1)),
                    task.slippedSolution(problems.get(3), rate, new SplittableRandom(1)),
                    "the same draws give the same slips");
        }
        ChainTask task = new ChainTask(ChainTask.Difficulty.of(4));
        Problem p = task.generate(1, 0, 1).get(0);
        SplittableRandom rng = new SplittableRandom(1);
        for (double bad : new double[] {-0.1, 1, Double.NaN}) {
            assertEquals(
                    "rate must be in [0, 1), got " + bad,
                    assertThrows(IllegalArgumentException.class, () -> task.slippedSolution(p, bad, rng))
                            .getMessage());
        }
        Problem longer =
                new ChainTask(ChainTask.Difficulty.of(5)).generate(1, 0, 1).get(0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> task.slippedSolution(longer, 0.1, rng))
                .getMessage()
                .contains("is not a chain of 4 operations"));
        Problem outOfRange = new Problem(0, "7+c-1*3+2=", "", "0");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> task.slippedSolution(outOfRange, 0.1, rng))
                .getMessage()
                .contains("'c', not a value modulo 10"));
        assertThrows(IllegalArgumentException.class, () -> task.slippedSolution(null, 0.1, rng));
        assertThrows(IllegalArgumentException.class, () -> task.slippedSolution(p, 0.1, null));
    }

    /** The final value when line {@code s} of the chain in {@code question} gives {@code wrong} and the rest follow. */
    private static String carriedOn(String question, int s, int wrong, int modulus) {
        int value = wrong;
        for (int t = s + 1; 2 * t + 2 < question.length(); t++) {
            char op = question.charAt(1 + 2 * t);
            int operand = digit(question.charAt(2 + 2 * t));
            value = Math.floorMod(op == '+' ? value + operand : op == '-' ? value - operand : value * operand, modulus);
        }
        return String.valueOf(Character.forDigit(value, 36));
    }

    private static int digit(char c) {
        return Character.digit(c, 36);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    @Test
    void gsm8kJsonlReadsProblemsAndRejectsBrokenLines() throws IOException {
        Path ok = dir.resolve("train.jsonl");
        Files.writeString(
                ok,
                "{\"question\": \"2+2?\", \"answer\": \"2+2=4\\n#### 4\"}\n\n"
                        + "{\"question\": \"Big?\", \"answer\": \"so\\n#### 1,000\", \"extra\": 1}\n");
        List<Problem> ps = Gsm8kJsonl.read(ok);
        assertEquals(2, ps.size());
        assertEquals(new Problem(0, "2+2?", "2+2=4\n#### 4", "4"), ps.get(0));
        assertEquals("1,000", ps.get(1).answer());

        Path noAnswer = dir.resolve("bad1.jsonl");
        Files.writeString(noAnswer, "{\"question\": \"q\", \"answer\": \"4\"}\n");
        TaskFormatException e = assertThrows(TaskFormatException.class, () -> Gsm8kJsonl.read(noAnswer));
        assertTrue(e.getMessage().contains("bad1.jsonl:1"), e.getMessage());
        Path missing = dir.resolve("bad2.jsonl");
        Files.writeString(missing, "{\"question\": \"q\", \"answer\": \"#### 1\"}\n{\"question\": \"q\"}\n");
        e = assertThrows(TaskFormatException.class, () -> Gsm8kJsonl.read(missing));
        assertTrue(e.getMessage().contains(":2:") && e.getMessage().contains("answer"), e.getMessage());
        Path notJson = dir.resolve("bad3.jsonl");
        Files.writeString(notJson, "question: q\n");
        assertThrows(TaskFormatException.class, () -> Gsm8kJsonl.read(notJson));
    }

    private static int leftToRight(String expr) {
        int value = 0, i = 0;
        char op = '+';
        while (i < expr.length()) {
            int j = i;
            while (j < expr.length() && Character.isDigit(expr.charAt(j))) j++;
            int n = Integer.parseInt(expr.substring(i, j));
            value = switch (op) {
                case '+' -> value + n;
                case '-' -> value - n;
                default -> value * n;
            };
            if (j < expr.length()) op = expr.charAt(j);
            i = j + 1;
        }
        return value;
    }
}
