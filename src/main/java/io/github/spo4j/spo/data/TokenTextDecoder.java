package io.github.spo4j.spo.data;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.partition.NewlineStepPartition;
import java.util.function.IntFunction;

/**
 * The text of each response token, so that text-based partitions ({@link NewlineStepPartition}) need no tokenizer
 * implementation. The pieces, concatenated, are the decoded response, and token t starts at character offset
 * Σ_{u&lt;t} |piece_u| (the start of Hugging Face's offset mapping).
 *
 * <p>Decoding the whole sequence at once lets an implementation handle tokens that are not text on their own (a
 * byte-level BPE token holding part of a UTF-8 character can return "" and leave the character to the next token).
 */
@FunctionalInterface
public interface TokenTextDecoder {

    /**
     * @param tokenIds [L] token ids
     * @return [L] the text each token contributes, none null
     */
    String[] tokenTexts(int[] tokenIds);

    /** A decoder whose tokens decode independently: token t's text is {@code pieceOf.apply(tokenIds[t])}. */
    static TokenTextDecoder perToken(IntFunction<String> pieceOf) {
        SpoArguments.notNull(pieceOf, "pieceOf");
        return tokenIds -> {
            String[] pieces = new String[tokenIds.length];
            for (int t = 0; t < tokenIds.length; t++) pieces[t] = pieceOf.apply(tokenIds[t]);
            return pieces;
        };
    }
}
