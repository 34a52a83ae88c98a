package io.github.spo4j.examples;

/**
 * The example's task: a prompt is one digit; the response is {@link #LENGTH} digits, and each digit that is its
 * predecessor plus one (mod 10) earns 1/{@link #LENGTH} of the reward (the prompt precedes the first). A uniform
 * policy scores 0.1 on average; counting up scores 1.
 */
final class CountingTask {
    static final int VOCAB = 10;
    static final int LENGTH = 8;

    private CountingTask() {}

    /** The reward of a complete response: the fraction of its digits that count up from their predecessor. */
    static double reward(int prompt, int[] response) {
        int correct = 0, prev = prompt;
        for (int token : response) {
            if (token == (prev + 1) % VOCAB) correct++;
            prev = token;
        }
        return (double) correct / LENGTH;
    }
}
