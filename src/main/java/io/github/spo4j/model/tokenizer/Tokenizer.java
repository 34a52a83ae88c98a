package io.github.spo4j.model.tokenizer;

import java.util.Arrays;
import java.util.OptionalInt;

/**
 * Text to token ids and back. Ids are in [0, {@link #vocabSize()}). {@link #encode} adds no special tokens (no BOS):
 * callers add them where a prompt format wants them.
 *
 * <p>{@link #tokenTexts} has the contract of the SPO core's {@code io.github.spo4j.spo.data.TokenTextDecoder} (which this
 * layer may not import): pass {@code tokenizer::tokenTexts} where one is wanted.
 */
public interface Tokenizer {

    /** @return [N] the ids of {@code text}, without special tokens added */
    int[] encode(String text);

    /** @param ids [N] token ids; special tokens decode to their text */
    default String decode(int[] ids) {
        TokenizerArguments.notNull(ids, "ids");
        return decode(ids, 0, ids.length);
    }

    /** Decodes {@code ids[from, to)}. */
    String decode(int[] ids, int from, int to);

    /** {@link #decode(int[])} of the ids that are not {@link #isSpecial special}. */
    default String decodeSkippingSpecial(int[] ids) {
        TokenizerArguments.notNull(ids, "ids");
        return decode(Arrays.stream(ids).filter(id -> !isSpecial(id)).toArray());
    }

    /**
     * The text each token contributes: the pieces concatenated are {@code decode(ids)}. A token holding only part of a
     * UTF-8 character contributes "" and the character goes to the token that completes it.
     *
     * @param ids [N] token ids
     * @return [N] pieces, none null
     */
    String[] tokenTexts(int[] ids);

    /** @return V: one more than the largest id */
    int vocabSize();

    /** @return the id of a token given in the tokenizer's own token form, if there is one */
    OptionalInt tokenId(String token);

    /** @return the token form of {@code id} (for byte-level BPE, the byte-to-unicode characters) */
    String token(int id);

    /** @return the beginning-of-sequence id, if the tokenizer has one */
    OptionalInt bosId();

    /** @return the ids that end a generation (possibly none) */
    int[] eosIds();

    /** @return the padding id, if the tokenizer has one */
    OptionalInt padId();

    /** @return whether {@code id} is a special (control) token rather than text */
    boolean isSpecial(int id);
}
