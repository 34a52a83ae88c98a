package io.github.spo4j.tasks;

import java.util.Optional;

/** A task's answer form: how a response's final answer is found, checked against the gold answer and scored. */
public enum AnswerFormat {
    /** {@code "#### answer"}, checked and scored by {@link Gsm8kAnswers}. */
    GSM8K {
        @Override
        public Optional<String> extract(String response) {
            return Gsm8kAnswers.extract(response);
        }

        @Override
        boolean matches(String answer, String gold) {
            return Gsm8kAnswers.isCorrect(answer, gold);
        }

        @Override
        public double reward(String response, String gold, FinishReason finishReason) {
            return Gsm8kAnswers.reward(response, gold, finishReason);
        }
    },
    /** {@code \boxed{answer}} and the other MATH forms, checked and scored by {@link MathAnswers}. */
    MATH {
        @Override
        public Optional<String> extract(String response) {
            return MathAnswers.extract(response);
        }

        @Override
        boolean matches(String answer, String gold) {
            return MathAnswers.isEquivalent(answer, gold);
        }

        @Override
        public double reward(String response, String gold, FinishReason finishReason) {
            return MathAnswers.reward(response, gold, finishReason);
        }
    };

    /** The response's final answer in this form; empty when it has none. */
    public abstract Optional<String> extract(String response);

    /** Whether the response has a final answer and it is correct for {@code gold}; whether it finished is not asked. */
    public boolean isCorrect(String response, String gold) {
        if (response == null) throw new IllegalArgumentException("response must not be null");
        if (gold == null) throw new IllegalArgumentException("gold must not be null");
        return extract(response).map(a -> matches(a, gold)).orElse(false);
    }

    /** The task's reward of a response to a question whose gold answer is {@code gold} (SPO_SPEC §5). */
    public abstract double reward(String response, String gold, FinishReason finishReason);

    abstract boolean matches(String answer, String gold);
}
