package io.github.spo4j.train;

import io.github.spo4j.model.tokenizer.Tokenizer;
import io.github.spo4j.rollout.RewardFunction;
import io.github.spo4j.tasks.AnswerFormat;
import io.github.spo4j.tasks.FinishReason;
import io.github.spo4j.tasks.Problem;
import java.util.Arrays;
import java.util.List;

/**
 * A task as the trainer sees it: train and test problems, how answers are checked, and how a problem becomes
 * tokens. A prompt is the tokenizer's BOS (if it has one) and the encoded {@link #promptText}; a response is text
 * followed by an EOS token, scored by the answer format on its text with special tokens removed.
 *
 * @param name           a short name for reports ("arithmetic", a file name)
 * @param train          training problems, ids unique within the list
 * @param test           evaluation problems
 * @param format         answer extraction and reward
 * @param tokenizer      the policy's tokenizer
 * @param promptTemplate the prompt text with {@code {question}} where the question goes
 */
public record TrainingTask(
        String name,
        List<Problem> train,
        List<Problem> test,
        AnswerFormat format,
        Tokenizer tokenizer,
        String promptTemplate) {

    /** The placeholder of the question in a prompt template. */
    public static final String QUESTION = "{question}";

    public TrainingTask {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("name must not be blank");
        if (train == null || train.isEmpty()) throw new IllegalArgumentException("train must not be empty");
        if (test == null || test.isEmpty()) throw new IllegalArgumentException("test must not be empty");
        if (format == null) throw new IllegalArgumentException("format must not be null");
        if (tokenizer == null) throw new IllegalArgumentException("tokenizer must not be null");
        if (promptTemplate == null || !promptTemplate.contains(QUESTION)) {
            throw new IllegalArgumentException("promptTemplate must contain " + QUESTION + ", got " + promptTemplate);
        }
        if (tokenizer.eosIds().length == 0) throw new IllegalArgumentException("tokenizer must have an EOS token");
        train = List.copyOf(train);
        test = List.copyOf(test);
    }

    /**
     * This task with its last {@code problems} training problems held out as the evaluation set, for tuning without
     * reading the test set: trains on the others; named "{name} (validation)".
     *
     * @throws IllegalArgumentException unless 0 &lt; problems &lt; train.size()
     */
    public TrainingTask holdOut(int problems) {
        if (problems < 1 || problems >= train.size()) {
            throw new IllegalArgumentException("the validation split must hold 1 to " + (train.size() - 1) + " of the "
                    + train.size() + " training problems, got " + problems);
        }
        int keep = train.size() - problems;
        return new TrainingTask(
                name + " (validation)",
                train.subList(0, keep),
                train.subList(keep, train.size()),
                format,
                tokenizer,
                promptTemplate);
    }

    public String promptText(Problem p) {
        return promptTemplate.replace(QUESTION, p.question());
    }

    /** [P] BOS (when the tokenizer has one) and the prompt's tokens. */
    public int[] promptIds(Problem p) {
        int[] text = tokenizer.encode(promptText(p));
        if (tokenizer.bosId().isEmpty()) return text;
        int[] out = new int[text.length + 1];
        out[0] = tokenizer.bosId().getAsInt();
        System.arraycopy(text, 0, out, 1, text.length);
        return out;
    }

    /** The worked solution's tokens and EOS: the supervised target. */
    public int[] solutionIds(Problem p) {
        return solutionIds(p.solution());
    }

    /** A solution text's tokens and EOS. */
    public int[] solutionIds(String solution) {
        int[] text = tokenizer.encode(solution);
        int[] out = Arrays.copyOf(text, text.length + 1);
        out[text.length] = eosId();
        return out;
    }

    /**
     * The longest worked solution's tokens with its end token, over the first {@value #SOLUTIONS_MEASURED} training
     * problems.
     */
    public int longestSolution() {
        int longest = 0;
        for (Problem p : train.subList(0, Math.min(SOLUTIONS_MEASURED, train.size()))) {
            longest = Math.max(longest, solutionIds(p).length);
        }
        return longest;
    }

    private static final int SOLUTIONS_MEASURED = 1000;

    /**
     * A response limit that fits the worked solutions with room to spare: 1.25 × {@link #longestSolution()}, rounded
     * up. A limit below the solutions' length cuts every right answer short, and a cut response scores 0.
     */
    public int fittingResponseLimit() {
        return (int) Math.ceil(1.25 * longestSolution());
    }

    /** The token that ends a response. */
    public int eosId() {
        return tokenizer.eosIds()[0];
    }

    /** The response's text, special tokens removed. */
    public String responseText(int[] responseIds) {
        return tokenizer.decodeSkippingSpecial(responseIds);
    }

    public double reward(Problem p, int[] responseIds, FinishReason finishReason) {
        return format.reward(responseText(responseIds), p.answer(), finishReason);
    }

    public boolean isCorrect(Problem p, int[] responseIds, FinishReason finishReason) {
        return finishReason.finished() && format.isCorrect(responseText(responseIds), p.answer());
    }

    /** The reward function of the samplers: question ids index {@link #train}. */
    public RewardFunction trainReward() {
        return (questionId, responseIds, finish) -> reward(train.get(questionId), responseIds, finish);
    }
}
