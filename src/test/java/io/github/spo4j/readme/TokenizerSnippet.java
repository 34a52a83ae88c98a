package io.github.spo4j.readme;

import io.github.spo4j.model.tokenizer.BpeTokenizer;
import io.github.spo4j.model.tokenizer.CharTokenizer;
import io.github.spo4j.model.tokenizer.Tokenizer;
import io.github.spo4j.spo.partition.NewlineStepPartition;
import java.io.IOException;
import java.nio.file.Path;

/** README, "Tokenizers": both implementations and a text-based partition. */
final class TokenizerSnippet {
    private TokenizerSnippet() {}

    record Result(Tokenizer chars, int[] ids, NewlineStepPartition partition) {}

    static Result run(Path tokenizerJson) throws IOException {
        // README begin
        Tokenizer chars = CharTokenizer.arithmetic(); // <pad>=0 <bos>=1 <eos>=2, then one id per character
        Tokenizer qwen = BpeTokenizer.fromJson(tokenizerJson); // e.g. Qwen2.5-0.5B/tokenizer.json
        int[] ids = qwen.encode("What is 12 * 7?"); // no special tokens added
        var partition = new NewlineStepPartition(qwen::tokenTexts); // the SPO core's TokenTextDecoder
        // README end
        return new Result(chars, ids, partition);
    }
}
