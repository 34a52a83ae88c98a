package io.github.spo4j.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MathAnswersTest {
    @TempDir
    Path dir;

    private static Optional<String> extract(String response) {
        return MathAnswers.extract(response);
    }

    @Test
    void boxedTakesTheLastCompleteBoxWithNestedBraces() {
        assertEquals(Optional.of("\\frac{1}{\\sqrt{2}}"), extract("so $\\boxed{\\frac{1}{\\sqrt{2}}}$."));
        assertEquals(Optional.of("7"), extract("first \\boxed{3}, then \\boxed{5}, finally \\boxed{7}."));
        assertEquals(Optional.of("\\{1,2\\}"), extract("\\boxed{\\{1,2\\}}"));
        assertEquals(Optional.of("3"), extract("\\boxed{3} and then \\boxed{4 unclosed"), "an unclosed box is skipped");
        assertEquals(Optional.of("12"), extract("The result is \\fbox{12}."));
        assertEquals(Optional.of("9"), extract("\\fbox{1} then \\boxed{9}"));
        assertEquals(Optional.of("5"), extract("so the answer: $\\boxed 5$"));
        assertEquals(Optional.of("5"), extract("\\boxed 5."));
        assertEquals(Optional.of("x+1"), extract("\\boxed {x+1}"));
        assertEquals(Optional.of("1"), extract("\\boxed{1} beats the answer is 2"), "boxed comes before \"answer is\"");
    }

    @Test
    void lastBoxedIsAPublicHelper() {
        assertEquals(Optional.of("\\frac{a}{b}"), MathAnswers.lastBoxed("x \\boxed{1} y \\boxed{\\frac{a}{b}} z"));
        assertEquals(Optional.empty(), MathAnswers.lastBoxed("no box here, 42"));
        assertEquals(Optional.empty(), MathAnswers.lastBoxed("\\boxedanswer"), "another macro, not a box");
        assertEquals(Optional.empty(), MathAnswers.lastBoxed("\\boxed{open {nested}"));
        assertThrows(IllegalArgumentException.class, () -> MathAnswers.lastBoxed(null));
    }

    @Test
    void minervaFinalAnswerComesFirst() {
        assertEquals(
                Optional.of("\\frac{3}{4}"),
                extract("work \\boxed{2}\nFinal Answer: The final answer is $\\frac{3}{4}$. I hope it is correct."));
        assertEquals(
                Optional.of("2"),
                extract("The final answer is $2$. I hope it is correct.\n" + "Final Answer: The final answer is $9"),
                "the last complete one");
        assertEquals(Optional.of("4"), extract("The final answer is $4$ and \\boxed{4}"), "no \"$. I hope\": boxed");
    }

    @Test
    void theAnswerIsTakesTheRestOfTheSentence() {
        assertEquals(Optional.of("$\\frac{1}{2}$"), extract("So the answer is $\\frac{1}{2}$. Done 7."));
        assertEquals(Optional.of("3.14"), extract("The answer is: 3.14.\nThat is pi-ish, 22."));
        assertEquals(Optional.of("12 apples"), extract("Hence the answer is 12 apples"));
        assertEquals(Optional.of("8"), extract("The answer is 5. Wait, the answer is 8."), "the last occurrence");
    }

    @Test
    void outputBlockThenLastNumber() {
        assertEquals(Optional.of("42"), extract("```python\nprint(6*7)\n```\n```output\n42\n```\nSo 1 is not it."));
        assertEquals(Optional.of("-1250.5"), extract("we get 3 and then -1,250.5."));
        assertEquals(Optional.of("1000"), extract("total 1,000"));
        assertEquals(Optional.of("0.5"), extract("about 0.5"));
        assertEquals(Optional.of("2"), extract("the pair (1,2)"), "a comma not followed by three digits separates");
        assertEquals(Optional.of("-.5"), extract("x = -.5"));
    }

    @Test
    void missingAnswerIsEmpty() {
        assertEquals(Optional.empty(), extract("I do not know."));
        assertEquals(Optional.empty(), extract(""));
        assertEquals(Optional.empty(), extract("\\boxed{}"));
        assertEquals(Optional.empty(), extract("The answer is ."));
        assertThrows(IllegalArgumentException.class, () -> extract(null));
    }

    @Test
    void normalizationFollowsStripString() {
        assertEquals("\\frac{1}{2}", MathAnswers.normalize("\\dfrac12"));
        assertEquals("\\frac{1}{2}", MathAnswers.normalize("\\tfrac{1}{2}"));
        assertEquals("\\frac{1}{2}", MathAnswers.normalize("1/2"));
        assertEquals("-\\frac{3}{4}", MathAnswers.normalize("-3/4"));
        assertEquals("\\frac{\\sqrt{2}}{2}", MathAnswers.normalize("\\sqrt2/2"));
        assertEquals("\\frac{1}{2}x", MathAnswers.normalize("\\frac1{2}x"));
        assertEquals("\\frac{\\pi}{2}", MathAnswers.normalize("\\frac\\pi2"));
        assertEquals("\\frac{\\frac{1}{2}}{3}", MathAnswers.normalize("\\frac{\\frac12}{3}"));
        assertEquals("0.5", MathAnswers.normalize("0.5"), "unlike Hendrycks, 0.5 is kept");
        assertEquals("0.5", MathAnswers.normalize(".5"));
        assertEquals("\\sqrt{3}", MathAnswers.normalize("\\sqrt3"));
        assertEquals("2\\sqrt{3}", MathAnswers.normalize("2 \\sqrt 3"));
        assertEquals("\\sqrt[3]{2}", MathAnswers.normalize("\\sqrt[3]{2}"));
        assertEquals("5", MathAnswers.normalize("x = 5"));
        assertEquals("xyz=5", MathAnswers.normalize("xyz = 5"), "only a short left side is dropped");
        assertEquals("30", MathAnswers.normalize("30^\\circ"));
        assertEquals("30", MathAnswers.normalize("30^{\\circ}"));
        assertEquals("5", MathAnswers.normalize("5\\text{ cm}"));
        assertEquals("5", MathAnswers.normalize("5 \\mbox{ cm}^2"));
        assertEquals("(B)", MathAnswers.normalize("\\text{(B)}"));
        assertEquals("50%", MathAnswers.normalize("50\\%"));
        assertEquals("18.90", MathAnswers.normalize("\\$18.90"));
        assertEquals("5", MathAnswers.normalize("5.00"));
        assertEquals("2.50", MathAnswers.normalize("2.50"));
        assertEquals("1,000", MathAnswers.normalize("1,\\!000"));
        assertEquals("(1,2)", MathAnswers.normalize("\\left( 1, 2 \\right)"));
        assertEquals("[2,5)", MathAnswers.normalize("x \\in [2, 5)"));
        assertEquals("(-\\infty,3]", MathAnswers.normalize("(-\\infty, 3]"));
        assertEquals("x\\infty", MathAnswers.normalize("x \\infty"), "\\infty is not an \\in prefix");
        assertEquals(
                "\\begin{pmatrix}1\\2\\end{pmatrix}", MathAnswers.normalize("\\begin{pmatrix}1\\\\2\\end{pmatrix}"));
        assertEquals("-3", MathAnswers.normalize("\u22123"));
        assertEquals("12", MathAnswers.normalize("12.\n"));
        assertEquals("", MathAnswers.normalize("  "));
        assertThrows(IllegalArgumentException.class, () -> MathAnswers.normalize(null));
    }

    @Test
    void fractionsDecimalsAndSlashesAreEquivalent() {
        for (String a : List.of("\\frac{1}{2}", "0.5", "1/2", "\\dfrac12", ".5", "\\frac{2}{4}", "0.50")) {
            for (String b : List.of("\\frac{1}{2}", "0.5", "1/2", "\\dfrac12")) {
                assertTrue(MathAnswers.isEquivalent(a, b), a + " vs " + b);
            }
        }
        assertTrue(MathAnswers.isEquivalent("-\\frac{1}{2}", "\\frac{-1}{2}"));
        assertTrue(MathAnswers.isEquivalent("-0.5", "-1/2"));
        assertFalse(MathAnswers.isEquivalent("\\frac{1}{3}", "0.5"));
        assertFalse(MathAnswers.isEquivalent("2/1", "\\frac{1}{2}"));
    }

    @Test
    void signsCommasPercentagesDegreesAndUnits() {
        assertFalse(MathAnswers.isEquivalent("-3", "3"));
        assertTrue(MathAnswers.isEquivalent("-3", "-3.0"));
        assertTrue(MathAnswers.isEquivalent("1,000", "1000"));
        assertTrue(MathAnswers.isEquivalent("1,234,567.5", "1234567.5"));
        assertFalse(MathAnswers.isEquivalent("1,000", "100"));
        assertTrue(MathAnswers.isEquivalent("50\\%", "50"));
        assertTrue(MathAnswers.isEquivalent("50%", "0.5"));
        assertTrue(MathAnswers.isEquivalent("0.5", "50\\%"));
        assertFalse(MathAnswers.isEquivalent("50%", "0.5%"), "both percentages compare by value");
        assertFalse(MathAnswers.isEquivalent("50", "0.5"), "no x vs 100x without a percent sign");
        assertTrue(MathAnswers.isEquivalent("90^\\circ", "90"));
        assertTrue(MathAnswers.isEquivalent("12\\text{ cm}", "12"));
        assertTrue(MathAnswers.isEquivalent("\\$5.00", "5"));
        assertTrue(MathAnswers.isEquivalent("x = 5", "5"));
        assertTrue(MathAnswers.isEquivalent("5", "k=5"));
        assertTrue(MathAnswers.isEquivalent("\\text{(C)}", "(C)"));
        assertFalse(MathAnswers.isEquivalent("(C)", "(D)"));
    }

    @Test
    void tuplesAndIntervalsComparePairwise() {
        assertTrue(MathAnswers.isEquivalent("(1, 2)", "(1,2)"));
        assertTrue(MathAnswers.isEquivalent("(0.5, -3)", "\\left(\\frac{1}{2}, -3\\right)"));
        assertFalse(
                MathAnswers.isEquivalent("[\\frac{1}{2}, 1,000]", "[0.5,1000]"),
                "a thousands comma inside a tuple separates elements");
        assertFalse(MathAnswers.isEquivalent("(1,2)", "(2,1)"));
        assertFalse(MathAnswers.isEquivalent("(1,2)", "[1,2]"), "open and closed intervals differ");
        assertFalse(MathAnswers.isEquivalent("(1,2]", "(1,2)"));
        assertFalse(MathAnswers.isEquivalent("(1,2,3)", "(1,2)"));
        assertTrue(MathAnswers.isEquivalent("(\\frac{1}{2},(\\frac{7}{2},4))", "(0.5,(3.5,4))"), "nested tuples");
        assertTrue(MathAnswers.isEquivalent("(-\\infty, 3]", "(-\\infty,3.00]"));
    }

    @Test
    void numbersAgreeWithinAnAbsoluteTolerance() {
        assertTrue(MathAnswers.isEquivalent("0.5009", "0.5"));
        assertFalse(MathAnswers.isEquivalent("0.5011", "0.5"));
        assertTrue(MathAnswers.isEquivalent("0.333", "\\frac{1}{3}"));
        assertFalse(MathAnswers.isEquivalent("0.33", "\\frac{1}{3}"));
        assertTrue(MathAnswers.isEquivalent("3.1416", "3.14159"));
        assertFalse(MathAnswers.isEquivalent("1001", "1000"), "absolute, not relative: 1001 is not 1000");
        assertFalse(MathAnswers.isEquivalent("1000.01", "1000"));
        assertTrue(MathAnswers.isEquivalent("1000.0009", "1000"));
        assertTrue(MathAnswers.isEquivalent("10000000000.005", "10000000000"), "1e-9 relative for huge values");
        assertFalse(MathAnswers.isEquivalent("", "0"));
        assertFalse(MathAnswers.isEquivalent("", ""), "an empty answer is never equivalent");
        assertThrows(IllegalArgumentException.class, () -> MathAnswers.isEquivalent(null, "1"));
        assertThrows(IllegalArgumentException.class, () -> MathAnswers.isEquivalent("1", null));
    }

    @Test
    void symbolicAlgebraIsNotCovered() {
        assertFalse(MathAnswers.isEquivalent("2(x+1)", "2x+2"));
        assertFalse(MathAnswers.isEquivalent("\\sqrt{4}", "2"));
        assertTrue(MathAnswers.isEquivalent("2 x + 2", "2x+2"), "whitespace alone is normalized away");
    }

    @Test
    void rewardIsOneOnlyForAFinishedCorrectAnswer() {
        String right = "We simplify.\nTherefore, the final answer is: $\\boxed{\\dfrac{1}{2}}$";
        assertEquals(1.0, MathAnswers.reward(right, "0.5", FinishReason.EOS));
        assertEquals(1.0, MathAnswers.reward(right, "\\frac12", FinishReason.STOP));
        assertEquals(0.0, MathAnswers.reward(right, "0.5", FinishReason.LENGTH), "truncated, even if correct");
        assertEquals(0.0, MathAnswers.reward(right, "\\frac{1}{3}", FinishReason.EOS), "wrong");
        assertEquals(0.0, MathAnswers.reward("I give up.", "2", FinishReason.EOS), "no answer");
        assertEquals(1.0, MathAnswers.reward("so it is 41 + 1 = 42", "42", FinishReason.EOS), "last number");
        assertThrows(IllegalArgumentException.class, () -> MathAnswers.reward(right, "1", null));
        assertThrows(IllegalArgumentException.class, () -> MathAnswers.reward(null, "1", FinishReason.EOS));
        assertThrows(IllegalArgumentException.class, () -> MathAnswers.reward(right, null, FinishReason.EOS));
    }

    @Test
    void answerFormatsDelegate() {
        assertEquals(Optional.of("7"), AnswerFormat.GSM8K.extract("x\n#### 7"));
        assertEquals(Optional.of("7"), AnswerFormat.MATH.extract("x \\boxed{7}"));
        assertTrue(AnswerFormat.GSM8K.isCorrect("x\n#### 1,000", "1000"));
        assertFalse(AnswerFormat.GSM8K.isCorrect("x \\boxed{7}", "7"));
        assertFalse(AnswerFormat.GSM8K.isCorrect("x\n#### 0.5", "1/2"), "GSM8K compares strings");
        assertTrue(AnswerFormat.MATH.isCorrect("x \\boxed{0.5}", "1/2"));
        assertFalse(AnswerFormat.MATH.isCorrect("no answer here", "1"));
        assertEquals(-2.0, AnswerFormat.GSM8K.reward("#### 7\n#### 7", "7", FinishReason.EOS));
        assertEquals(1.0, AnswerFormat.MATH.reward("#### 7\n#### 7", "7", FinishReason.EOS), "MATH has no penalty");
        assertEquals(0.0, AnswerFormat.MATH.reward("\\boxed{7}", "7", FinishReason.LENGTH));
        assertThrows(IllegalArgumentException.class, () -> AnswerFormat.MATH.isCorrect(null, "1"));
        assertThrows(IllegalArgumentException.class, () -> AnswerFormat.GSM8K.isCorrect("#### 1", null));
        assertThrows(IllegalArgumentException.class, () -> AnswerFormat.GSM8K.reward(null, "1", FinishReason.EOS));
    }

    @Test
    void mathJsonlReadsGoldFromAnswerOrLastBox() throws IOException {
        Path ok = dir.resolve("math.jsonl");
        Files.writeString(
                ok,
                "{\"problem\": \"1/2+0?\", \"solution\": \"It is $\\\\boxed{\\\\frac{1}{2}}$.\", "
                        + "\"level\": \"Level 1\"}\n\n"
                        + "{\"problem\": \"p\", \"solution\": \"\\\\boxed{3} no, \\\\boxed{ 4 }\"}\n"
                        + "{\"problem\": \"q\", \"solution\": \"no box\", \"answer\": \" 9 \"}\n");
        List<Problem> ps = MathJsonl.read(ok);
        assertEquals(3, ps.size());
        assertEquals(new Problem(0, "1/2+0?", "It is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"), ps.get(0));
        assertEquals(1, ps.get(1).id());
        assertEquals("4", ps.get(1).answer());
        assertEquals("9", ps.get(2).answer(), "the answer field wins");
    }

    @Test
    void mathJsonlRejectsBrokenLinesNamingFileAndLine() throws IOException {
        String good = "{\"problem\": \"p\", \"solution\": \"\\\\boxed{1}\"}\n";
        Path badJson = dir.resolve("bad1.jsonl");
        Files.writeString(badJson, good + "\n{\"problem\": \"p\", \"solution\": \n");
        TaskFormatException e = assertThrows(TaskFormatException.class, () -> MathJsonl.read(badJson));
        assertTrue(e.getMessage().contains("bad1.jsonl:3:") && e.getMessage().contains("invalid JSON"), e.getMessage());
        Path noSolution = dir.resolve("bad2.jsonl");
        Files.writeString(noSolution, good + "{\"problem\": \"p\", \"answer\": \"1\"}\n");
        e = assertThrows(TaskFormatException.class, () -> MathJsonl.read(noSolution));
        assertTrue(e.getMessage().contains(":2:") && e.getMessage().contains("\"solution\""), e.getMessage());
        Path noBox = dir.resolve("bad3.jsonl");
        Files.writeString(noBox, good + good + "{\"problem\": \"p\", \"solution\": \"so it is 4\"}\n");
        e = assertThrows(TaskFormatException.class, () -> MathJsonl.read(noBox));
        assertTrue(e.getMessage().contains(":3:") && e.getMessage().contains("boxed"), e.getMessage());
        Path emptyBox = dir.resolve("bad4.jsonl");
        Files.writeString(emptyBox, "{\"problem\": \"p\", \"solution\": \"\\\\boxed{ }\"}\n");
        assertThrows(TaskFormatException.class, () -> MathJsonl.read(emptyBox));
        Path notObject = dir.resolve("bad5.jsonl");
        Files.writeString(notObject, "[1, 2]\n");
        e = assertThrows(TaskFormatException.class, () -> MathJsonl.read(notObject));
        assertTrue(e.getMessage().contains("not a JSON object"), e.getMessage());
        Path blankAnswer = dir.resolve("bad6.jsonl");
        Files.writeString(blankAnswer, "{\"problem\": \"p\", \"solution\": \"\\\\boxed{1}\", \"answer\": \" \"}\n");
        assertThrows(TaskFormatException.class, () -> MathJsonl.read(blankAnswer));
        assertThrows(IllegalArgumentException.class, () -> MathJsonl.read(null));
    }

    @Test
    void taskFilesDetectsTheFormat() throws IOException {
        Path gsm = dir.resolve("gsm.jsonl");
        Files.writeString(gsm, "\n{\"question\": \"2+2?\", \"answer\": \"2+2=4\\n#### 4\"}\n");
        TaskData g = TaskFiles.read(gsm);
        assertEquals(AnswerFormat.GSM8K, g.format());
        assertEquals(List.of(new Problem(0, "2+2?", "2+2=4\n#### 4", "4")), g.problems());

        Path math = dir.resolve("math.jsonl");
        Files.writeString(
                math,
                "{\"problem\": \"p\", \"solution\": \"\\\\boxed{\\\\dfrac12}\", \"answer\": \"1/2\"}\n"
                        + "{\"problem\": \"q\", \"solution\": \"$\\\\boxed{3}$\"}\n");
        TaskData m = TaskFiles.read(math);
        assertEquals(AnswerFormat.MATH, m.format());
        assertEquals(2, m.problems().size());
        assertEquals("1/2", m.problems().get(0).answer());
        assertEquals(1.0, m.format().reward("\\boxed{0.5}", m.problems().get(0).answer(), FinishReason.EOS));
        assertThrows(
                UnsupportedOperationException.class,
                () -> m.problems().add(m.problems().get(0)));

        Path neither = dir.resolve("neither.jsonl");
        Files.writeString(neither, "{\"prompt\": \"p\", \"answer\": \"1\"}\n");
        TaskFormatException e = assertThrows(TaskFormatException.class, () -> TaskFiles.read(neither));
        String msg = e.getMessage();
        assertTrue(
                msg.contains("neither.jsonl:1:")
                        && msg.contains("\"question\"")
                        && msg.contains("\"problem\"")
                        && msg.contains("\"solution\"")
                        && msg.contains("prompt"),
                msg);
        Path both = dir.resolve("both.jsonl");
        Files.writeString(
                both, "{\"question\": \"q\", \"answer\": \"#### 1\", \"problem\": \"p\", \"solution\": \"s\"}\n");
        assertThrows(TaskFormatException.class, () -> TaskFiles.read(both));
        Path empty = dir.resolve("empty.jsonl");
        Files.writeString(empty, "\n  \n");
        e = assertThrows(TaskFormatException.class, () -> TaskFiles.read(empty));
        assertTrue(e.getMessage().contains("no non-blank line"), e.getMessage());
        Path laterBad = dir.resolve("later.jsonl");
        Files.writeString(
                laterBad, "{\"question\": \"q\", \"answer\": \"#### 1\"}\n{\"problem\": \"p\", \"solution\": \"s\"}\n");
        e = assertThrows(TaskFormatException.class, () -> TaskFiles.read(laterBad));
        assertTrue(e.getMessage().contains(":2:"), "lines after the first are read in the first line's form");
        assertThrows(IllegalArgumentException.class, () -> TaskFiles.read(null));
    }

    @Test
    void taskDataValidates() {
        Problem p = new Problem(0, "q", "s", "a");
        assertThrows(IllegalArgumentException.class, () -> new TaskData(null, AnswerFormat.MATH));
        assertThrows(IllegalArgumentException.class, () -> new TaskData(List.of(p), null));
        List<Problem> withNull = new ArrayList<>(List.of(p));
        withNull.add(null);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new TaskData(withNull, AnswerFormat.GSM8K));
        assertTrue(e.getMessage().contains("problems[1]"), e.getMessage());
        List<Problem> source = new ArrayList<>(List.of(p));
        TaskData d = new TaskData(source, AnswerFormat.GSM8K);
        source.clear();
        assertEquals(1, d.problems().size(), "a copy");
    }
}
