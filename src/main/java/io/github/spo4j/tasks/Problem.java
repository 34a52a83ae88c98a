package io.github.spo4j.tasks;

/**
 * One question of a task with its worked solution.
 *
 * @param id       the problem's index in its dataset (the SPO core's question id), &gt;= 0
 * @param question the prompt text
 * @param solution a worked solution ending in the task's answer form (GSM8K: {@code "#### answer"})
 * @param answer   the gold final answer as text
 */
public record Problem(int id, String question, String solution, String answer) {
    public Problem {
        if (id < 0) throw new IllegalArgumentException("id must be >= 0, got " + id);
        if (question == null) throw new IllegalArgumentException("question must not be null");
        if (solution == null) throw new IllegalArgumentException("solution must not be null");
        if (answer == null) throw new IllegalArgumentException("answer must not be null");
    }
}
