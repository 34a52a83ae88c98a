package io.github.spo4j.tasks;

import java.util.Locale;
import java.util.Optional;

/**
 * GSM8K's answer form and reward (SPO_SPEC §5, the reference's {@code use_original_format} and
 * {@code MATHRewardFunction}):
 * <ul>
 *   <li>the predicted answer is the text after the last {@code "####"}, stripped;
 *   <li>it is correct when it equals the gold answer once commas are removed and both are lowercased;
 *   <li>reward 1 if correct, 0 if wrong, 0 without an answer or when the response was cut at the length limit,
 *       and {@value #MULTIPLE_ANSWERS_REWARD} when the response holds two or more {@code "####"}.
 * </ul>
 */
public final class Gsm8kAnswers {
    public static final String MARKER = "####";
    /** The reference's hard-coded penalty for a response with two or more markers. */
    public static final double MULTIPLE_ANSWERS_REWARD = -2.0;

    private Gsm8kAnswers() {}

    /** The text after the last {@value #MARKER}, stripped; empty when there is no marker or nothing after it. */
    public static Optional<String> extract(String response) {
        if (response == null) throw new IllegalArgumentException("response must not be null");
        int at = response.lastIndexOf(MARKER);
        if (at < 0) return Optional.empty();
        String a = response.substring(at + MARKER.length()).strip();
        return a.isEmpty() ? Optional.empty() : Optional.of(a);
    }

    /** Commas removed, lowercased, stripped: "1,234" and "1234" compare equal. */
    public static String normalize(String answer) {
        if (answer == null) throw new IllegalArgumentException("answer must not be null");
        return answer.replace(",", "").toLowerCase(Locale.ROOT).strip();
    }

    public static boolean isCorrect(String predicted, String gold) {
        return normalize(predicted).equals(normalize(gold));
    }

    /** How many times the marker occurs. */
    public static int markers(String response) {
        int n = 0;
        for (int at = response.indexOf(MARKER); at >= 0; at = response.indexOf(MARKER, at + MARKER.length())) n++;
        return n;
    }

    /** The reward of a response to a question whose gold answer is {@code gold}. */
    public static double reward(String response, String gold, FinishReason finishReason) {
        if (response == null) throw new IllegalArgumentException("response must not be null");
        if (finishReason == null) throw new IllegalArgumentException("finishReason must not be null");
        if (gold == null) throw new IllegalArgumentException("gold must not be null");
        if (markers(response) >= 2) return MULTIPLE_ANSWERS_REWARD;
        if (!finishReason.finished()) return 0.0;
        Optional<String> a = extract(response);
        return a.isPresent() && isCorrect(a.get(), gold) ? 1.0 : 0.0;
    }
}
