package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.tokenizer.CharTokenizer;
import io.github.spo4j.tasks.ArithmeticTask;
import io.github.spo4j.tasks.ChainTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The places data errors name: the file, the problem, the character and where it is; missing directories. */
class WorkspaceTest {
    private static final CharTokenizer BUILT_IN_ALPHABET =
            Workspace.builtIn(new ArithmeticTask.Difficulty(2, 3, 9, 99, "+-*"), 64, 8, null)
                                    .tokenizer()
                            instanceof CharTokenizer c
                    ? c
                    : null;

    @Test
    void theChainTaskAndAValidationSplitHeldOutOfTheTrainingProblems() {
        TrainingTask chain = Workspace.builtIn(ChainTask.Difficulty.of(5), 100, 10, null);
        assertEquals("chain", chain.name());
        assertEquals(100, chain.train().size());
        TrainingTask validation = chain.holdOut(30);
        assertEquals("chain (validation)", validation.name());
        assertEquals(chain.train().subList(0, 70), validation.train());
        assertEquals(chain.train().subList(70, 100), validation.test(), "evaluates on held-out training problems");
        assertTrue(validation.test().stream().noneMatch(chain.test()::contains), "never on the test set");
        assertThrows(IllegalArgumentException.class, () -> chain.holdOut(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> chain.holdOut(100));
        assertEquals("the validation split must hold 1 to 99 of the 100 training problems, got 100", e.getMessage());
    }

    @Test
    void aPromptTemplateCharacterOutsideTheModelsAlphabetIsNamedAsTheTemplates(@TempDir Path dir) throws IOException {
        Path train = dir.resolve("train.jsonl"), test = dir.resolve("test.jsonl");
        Files.writeString(train, "{\"question\": \"1 + 2\", \"answer\": \"1 + 2 = 3\\n#### 3\"}\n");
        Files.writeString(test, "{\"question\": \"2 + 2\", \"answer\": \"2 + 2 = 4\\n#### 4\"}\n");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Workspace.fromFiles(train, test, BUILT_IN_ALPHABET));
        assertEquals(
                "the prompt template \"[MATH_TASK] Problem:\\n{question}\\n\\nSolution:\\n\" has '[' (U+005B), which "
                        + "is not in the model's alphabet: the model was trained on other text (make a base for this "
                        + "data with spo4j sft --train ...)",
                e.getMessage());
    }

    @Test
    void aQuestionCharacterOutsideTheAlphabetIsNamedByFileProblemAndPosition(@TempDir Path dir) throws IOException {
        Path train = dir.resolve("train.jsonl"), test = dir.resolve("test.jsonl");
        // An alphabet with everything of the template and the first problem, but not 'é'.
        String q0 = "1 + 2", q1 = "Combien font 2 + 2, café ?";
        Files.writeString(
                train,
                "{\"question\": \"" + q0 + "\", \"answer\": \"3\\n#### 3\"}\n{\"question\": \"" + q1
                        + "\", \"answer\": \"4\\n#### 4\"}\n");
        Files.writeString(test, "{\"question\": \"" + q0 + "\", \"answer\": \"3\\n#### 3\"}\n");
        StringBuilder alphabet = new StringBuilder();
        (Workspace.FILE_PROMPT + q0 + q1.replace("é", "") + "#0123456789\n")
                .codePoints()
                .distinct()
                .forEach(alphabet::appendCodePoint);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Workspace.fromFiles(train, test, new CharTokenizer(alphabet.toString())));
        assertEquals(
                train + ", problem 1: its question has 'é' (U+00E9) at character " + (q1.indexOf('é') + 1)
                        + ", which is not in the model's alphabet: the model was trained on other text",
                e.getMessage());
    }

    @Test
    void aMissingModelDirectoryIsSaidToNotExist(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nonexistent");
        assertEquals(
                "model directory " + missing + " does not exist",
                assertThrows(IllegalArgumentException.class, () -> Workspace.loadTokenizer(missing))
                        .getMessage());
        Files.writeString(missing, "x");
        assertEquals(
                "model directory " + missing + " is not a directory",
                assertThrows(IllegalArgumentException.class, () -> Workspace.loadTokenizer(missing))
                        .getMessage());
    }
}
