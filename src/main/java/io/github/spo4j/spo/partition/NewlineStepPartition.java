package io.github.spo4j.spo.partition;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.advantage.VinePpoAdvantages;
import io.github.spo4j.spo.data.TokenTextDecoder;
import io.github.spo4j.spo.data.Trajectory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * VinePPO's reasoning steps for GSM8K (SPO_SPEC §8, the reference's {@code split_solution_into_intermediate_steps}
 * with delimiter "\n" and answer prefix "\n#### "), mapped from characters to tokens.
 *
 * <p>On the decoded text:
 * <ol>
 *   <li>the answer tail, from the first "\n#### " to the end, is set aside;</li>
 *   <li>the rest is split on "\n";</li>
 *   <li>leading blank lines are merged into the first non-blank step;</li>
 *   <li>when there is an answer tail, the last non-blank step, the blank lines after it and the tail are merged
 *       into the last step;</li>
 *   <li>every step but the first keeps its leading "\n", so the steps joined are exactly the text.</li>
 * </ol>
 * Each token belongs to the step holding its first character (a token that starts at the end of the text, having
 * an empty piece, belongs to the last step). A step whose characters all sit inside tokens that start earlier gets
 * no token and is dropped: the value port works on token prefixes, and such a step has no token boundary to
 * estimate at. The segments are the runs of tokens of one step; every start value is estimated (VinePPO's cap on
 * estimated steps is applied by {@link VinePpoAdvantages}), and there is no pre-segment.
 *
 * <p>The reference fails on a response with two "\n#### " (it unpacks exactly two parts); here the tail starts at
 * the first one. SPO's reward gives such responses −2 (SPO_SPEC §5).
 */
public final class NewlineStepPartition implements SegmentPartition {

    /** The GSM8K step delimiter. */
    public static final String DELIMITER = "\n";
    /** The GSM8K answer prefix: the tail from here on is merged into the last step. */
    public static final String ANSWER_PREFIX = "\n#### ";

    private final TokenTextDecoder decoder;

    /** @param decoder the text of each response token */
    public NewlineStepPartition(TokenTextDecoder decoder) {
        this.decoder = SpoArguments.notNull(decoder, "decoder");
    }

    /**
     * The GSM8K step split of a text.
     *
     * @param text the response text
     * @return [S + 1] character offsets: step i is text[bounds[i], bounds[i+1]); bounds[0] = 0, bounds[S] =
     *     |text|; a step may be empty only when it is the first
     */
    public static int[] stepBoundaries(String text) {
        SpoArguments.notNull(text, "text");
        String solution = text;
        String answer = null;
        int tail = text.indexOf(ANSWER_PREFIX);
        if (tail >= 0) {
            solution = text.substring(0, tail);
            answer = text.substring(tail + ANSWER_PREFIX.length());
        }
        // limit −1 keeps trailing empty strings, as Python's str.split does.
        List<String> steps = new ArrayList<>(Arrays.asList(solution.split(DELIMITER, -1)));

        int firstNonBlank = -1;
        for (int i = 0; i < steps.size() && firstNonBlank < 0; i++) {
            if (!isBlank(steps.get(i))) firstNonBlank = i;
        }
        if (firstNonBlank > 0) {
            String merged = String.join(DELIMITER, steps.subList(0, firstNonBlank + 1));
            steps.subList(0, firstNonBlank + 1).clear();
            steps.add(0, merged);
        }

        if (answer != null) {
            int lastNonBlank = 0; // all blank: the whole solution is one step
            for (int i = steps.size() - 1; i >= 0; i--) {
                if (!isBlank(steps.get(i))) {
                    lastNonBlank = i;
                    break;
                }
            }
            String merged = String.join(DELIMITER, steps.subList(lastNonBlank, steps.size())) + ANSWER_PREFIX + answer;
            steps.subList(lastNonBlank, steps.size()).clear();
            steps.add(merged);
        }

        int[] bounds = new int[steps.size() + 1];
        for (int i = 0; i < steps.size(); i++) {
            bounds[i + 1] =
                    bounds[i] + (i == 0 ? 0 : DELIMITER.length()) + steps.get(i).length();
        }
        if (bounds[steps.size()] != text.length()) {
            throw new IllegalStateException("steps cover " + bounds[steps.size()] + " characters of " + text.length());
        }
        return bounds;
    }

    /** Python's {@code s.strip() == ""}: empty or only whitespace (Java's whitespace or Unicode space separators). */
    private static boolean isBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isWhitespace(c) && !Character.isSpaceChar(c)) return false;
        }
        return true;
    }

    /**
     * The step of each response token: the step holding the token's first character.
     *
     * @return [L] indices into the steps of {@link #stepBoundaries} of the decoded response, non-decreasing
     */
    public int[] tokenSteps(Trajectory trajectory) {
        SpoArguments.notNull(trajectory, "trajectory");
        int length = trajectory.responseLength();
        String[] pieces = decoder.tokenTexts(trajectory.responseIds());
        if (pieces == null || pieces.length != length) {
            throw new IllegalStateException("decoder returned " + (pieces == null ? "null" : pieces.length + " pieces")
                    + " for " + length + " tokens");
        }
        int[] tokenStart = new int[length];
        StringBuilder text = new StringBuilder();
        for (int t = 0; t < length; t++) {
            if (pieces[t] == null) throw new IllegalStateException("decoder returned a null piece for token " + t);
            tokenStart[t] = text.length();
            text.append(pieces[t]);
        }
        int[] bounds = stepBoundaries(text.toString());
        int lastStep = bounds.length - 2;
        int[] steps = new int[length];
        int step = 0;
        for (int t = 0; t < length; t++) {
            int c = tokenStart[t];
            if (c >= text.length()) {
                steps[t] = lastStep;
            } else {
                while (bounds[step + 1] <= c) step++; // offsets only grow: one pass over the steps
                steps[t] = step;
            }
        }
        return steps;
    }

    @Override
    public Partition split(Trajectory trajectory) {
        int[] steps = tokenSteps(trajectory);
        int[] boundaries = new int[steps.length];
        int count = 0;
        for (int t = 0; t < steps.length; t++) {
            if (t == 0 || steps[t] != steps[t - 1]) boundaries[count++] = t;
        }
        return Partition.fromBoundaries(steps.length, Arrays.copyOf(boundaries, count));
    }
}
