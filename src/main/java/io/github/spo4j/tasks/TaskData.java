package io.github.spo4j.tasks;

import java.util.List;

/**
 * A dataset's problems and the answer form that checks and scores them.
 *
 * @param problems the problems, unmodifiable, no null element
 * @param format   their answer form
 */
public record TaskData(List<Problem> problems, AnswerFormat format) {
    public TaskData {
        if (problems == null) throw new IllegalArgumentException("problems must not be null");
        if (format == null) throw new IllegalArgumentException("format must not be null");
        for (int i = 0; i < problems.size(); i++) {
            if (problems.get(i) == null) throw new IllegalArgumentException("problems[" + i + "] must not be null");
        }
        problems = List.copyOf(problems);
    }
}
