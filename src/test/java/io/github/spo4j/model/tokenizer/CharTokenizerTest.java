package io.github.spo4j.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class CharTokenizerTest {

    @Test
    void idsFollowTheAlphabetAfterTheSpecials() {
        CharTokenizer t = new CharTokenizer("ab+\n");
        assertEquals(7, t.vocabSize());
        assertArrayEquals(new int[] {3, 5, 4, 6}, t.encode("a+b\n"));
        assertEquals("<bos>a+b<eos>", t.decode(new int[] {1, 3, 5, 4, 2}));
        assertEquals("a+b", t.decodeSkippingSpecial(new int[] {1, 3, 5, 4, 2}));
        assertEquals("+b", t.decode(new int[] {3, 5, 4, 6}, 1, 3));
        assertArrayEquals(new String[] {"<bos>", "a", "\n"}, t.tokenTexts(new int[] {1, 3, 6}));
        assertEquals(OptionalInt.of(5), t.tokenId("+"));
        assertEquals(OptionalInt.of(CharTokenizer.EOS), t.tokenId("<eos>"));
        assertEquals(OptionalInt.empty(), t.tokenId("ab"));
        assertTrue(t.isSpecial(CharTokenizer.PAD));
        assertFalse(t.isSpecial(3));
        assertArrayEquals(new int[] {CharTokenizer.EOS}, t.eosIds());
    }

    @Test
    void arithmeticRoundTrip() {
        CharTokenizer t = CharTokenizer.arithmetic();
        String text = "Question: 12 + 34 * (5 - 6) / 7 = ?\nAnswer: -190.5";
        int[] ids = t.encode(text);
        assertEquals(text.length(), ids.length);
        assertEquals(text, t.decode(ids));
        assertEquals(text, String.join("", t.tokenTexts(ids)));
    }

    @Test
    void supplementaryCodePointsAreOneToken() {
        CharTokenizer t = new CharTokenizer("x😀");
        assertArrayEquals(new int[] {4, 3}, t.encode("😀x"));
        assertEquals("😀x", t.decode(new int[] {4, 3}));
    }

    @Test
    void errorsNameTheCharacterAndPosition() {
        CharTokenizer t = CharTokenizer.arithmetic();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.encode("1 + 2 = é"));
        assertTrue(e.getMessage().contains("'é'") && e.getMessage().contains("index 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.encode("1\t2"));
        assertTrue(e.getMessage().contains("U+0009") && e.getMessage().contains("index 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> t.encode("1\uD800"));
        assertTrue(e.getMessage().contains("unpaired surrogate"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CharTokenizer("abca"));
        assertTrue(e.getMessage().contains("repeats 'a'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CharTokenizer(""));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {t.vocabSize()}));
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {3, 4}, 1, 3));
        assertThrows(IllegalArgumentException.class, () -> t.encode(null));
    }

    @Test
    void fromTextsSortsTheDistinctCodePoints() {
        CharTokenizer t = CharTokenizer.fromTexts(List.of("ba\n", "", "a😀c"));
        assertEquals("\nabc😀", t.alphabet());
        assertEquals(3 + 5, t.vocabSize());
        assertArrayEquals(new int[] {4, 5, 6, 3, 7}, t.encode("abc\n😀"));
        CharTokenizer reordered = CharTokenizer.fromTexts(List.of("c😀", "\nab", "aaa"));
        assertEquals(t.alphabet(), reordered.alphabet());
        String text = "cab\n😀a";
        assertArrayEquals(t.encode(text), reordered.encode(text));
        assertEquals(text, t.decode(t.encode(text)));
    }

    @Test
    void alphabetRebuildsTheSameTokenizer() {
        CharTokenizer arithmetic = CharTokenizer.arithmetic();
        assertEquals(CharTokenizer.ARITHMETIC_ALPHABET, arithmetic.alphabet());
        CharTokenizer t = CharTokenizer.fromTexts(List.of("Question: 3+4=?\nAnswer: 7", "é😀"));
        CharTokenizer rebuilt = new CharTokenizer(t.alphabet());
        assertEquals(t.vocabSize(), rebuilt.vocabSize());
        for (int id = 0; id < t.vocabSize(); id++) assertEquals(t.token(id), rebuilt.token(id));
        String text = "Answer: 3+4=7 é😀";
        assertArrayEquals(t.encode(text), rebuilt.encode(text));
    }

    @Test
    void fromTextsRejectsNullsIllFormedAndEmpty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromTexts(null));
        assertTrue(e.getMessage().contains("texts"), e.getMessage());
        List<String> withNull = new ArrayList<>(Arrays.asList("ab", "c", null));
        e = assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromTexts(withNull));
        assertTrue(e.getMessage().contains("texts[2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromTexts(List.of("a", "b\uD800")));
        assertTrue(
                e.getMessage().contains("texts[1]") && e.getMessage().contains("unpaired surrogate"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromTexts(List.of("", "")));
        assertTrue(e.getMessage().contains("no character"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromTexts(List.of()));
    }
}
