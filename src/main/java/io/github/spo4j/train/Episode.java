package io.github.spo4j.train;

/**
 * One training sample: a query (prompt, or prompt and the ancestors' segments of a tree edge), the response trained
 * on, its π_old log-probs at the sampling temperature, its token advantages, and the frozen reference's log-probs
 * (null when the loss has no KL term).
 */
record Episode(int[] query, int[] response, float[] oldLogp, float[] advantages, float[] refLogp) {
    Episode {
        if (response.length != oldLogp.length || response.length != advantages.length) {
            throw new IllegalStateException("episode arrays differ in length: " + response.length + ", "
                    + oldLogp.length + ", " + advantages.length);
        }
    }
}
