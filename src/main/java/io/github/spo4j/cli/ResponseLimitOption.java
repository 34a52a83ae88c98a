package io.github.spo4j.cli;

import io.github.spo4j.train.TrainingTask;
import picocli.CommandLine.Option;

/** {@code --max-new-tokens} of {@code eval} and {@code credit}: the task's fitting limit unless the user sets one. */
final class ResponseLimitOption {
    @Option(
            names = "--max-new-tokens",
            paramLabel = "N",
            description = "Response limit (default: 1.25 × the longest worked solution of the task, which a right "
                    + "answer needs; a response cut at the limit scores 0).")
    Integer maxNewTokens;

    /** Refuses a limit below 1, before anything runs. */
    void check() {
        if (maxNewTokens != null && maxNewTokens < 1) {
            throw new IllegalArgumentException("--max-new-tokens must be >= 1, got " + maxNewTokens);
        }
    }

    /** The user's limit, or {@link TrainingTask#fittingResponseLimit()}. */
    int resolve(TrainingTask task) {
        check();
        return maxNewTokens != null ? maxNewTokens : task.fittingResponseLimit();
    }
}
