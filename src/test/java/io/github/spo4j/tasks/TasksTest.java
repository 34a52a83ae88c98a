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
