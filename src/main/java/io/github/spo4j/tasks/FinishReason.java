package io.github.spo4j.tasks;

/** Why a sampled response (or a tree node's segment) ended. */
public enum FinishReason {
    /** The model emitted its end-of-sequence token. */
    EOS,
    /** A stop string was produced. */
    STOP,
    /** The token limit (segment length, max_new_tokens or context) was reached: not finished. */
    LENGTH;

    /** EOS and STOP finish a response; LENGTH leaves it unfinished (scored 0 by SPO's reward). */
    public boolean finished() {
        return this != LENGTH;
    }
}
