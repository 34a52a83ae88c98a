package io.github.spo4j.train;

import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.model.tokenizer.BpeTokenizer;
import io.github.spo4j.model.tokenizer.CharTokenizer;
import io.github.spo4j.model.tokenizer.Tokenizer;
import io.github.spo4j.tasks.AnswerFormat;
import io.github.spo4j.tasks.ArithmeticTask;
import io.github.spo4j.tasks.ChainTask;
import io.github.spo4j.tasks.Problem;
import io.github.spo4j.tasks.TaskData;
import io.github.spo4j.tasks.TaskFiles;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Tasks, tokenizers and model directories as the CLI assembles them:
 * <ul>
 *   <li>the built-in task: {@link ArithmeticTask} problems (train and test from different seeds), prompt
 *       {@value #BUILT_IN_PROMPT}, a character tokenizer of the data's alphabet, and a small Llama;
 *   <li>jsonl files (GSM8K or MATH form, {@link TaskFiles}), prompt {@value #FILE_PROMPT} (SPO's Rho prompt), with a
 *       character tokenizer derived from the files, or the Hugging Face tokenizer of a model directory.
 * </ul>
 * A model directory holds {@code config.json} and safetensors, and either {@code tokenizer.json} (Hugging Face) or
 * {@value #CHAR_TOKENIZER} (the alphabet of a spo4j character tokenizer).
 */
public final class Workspace {
    public static final String BUILT_IN_PROMPT = "{question}\n";
    public static final String FILE_PROMPT = "[MATH_TASK] Problem:\n{question}\n\nSolution:\n";
    public static final String CHAR_TOKENIZER = "spo4j-char-tokenizer.txt";

    private Workspace() {}

    /** The built-in task: {@code trainSize} and {@code testSize} problems of {@code difficulty}. */
    public static TrainingTask builtIn(
            ArithmeticTask.Difficulty difficulty, int trainSize, int testSize, Tokenizer tokenizer) {
        ArithmeticTask gen = new ArithmeticTask(difficulty);
        return builtIn("arithmetic", gen.generate(trainSize, 0, 1), gen.generate(testSize, 0, 2), tokenizer);
    }

    /** The built-in chain task: {@code trainSize} and {@code testSize} problems of {@code difficulty}. */
    public static TrainingTask builtIn(
            ChainTask.Difficulty difficulty, int trainSize, int testSize, Tokenizer tokenizer) {
        ChainTask gen = new ChainTask(difficulty);
        return builtIn("chain", gen.generate(trainSize, 0, 1), gen.generate(testSize, 0, 2), tokenizer);
    }

    private static TrainingTask builtIn(String name, List<Problem> train, List<Problem> test, Tokenizer tokenizer) {
        Tokenizer tok = tokenizer != null ? tokenizer : charTokenizer(train, test, BUILT_IN_PROMPT);
        requireAlphabet(tok, BUILT_IN_PROMPT, "built-in train problems", train);
        requireAlphabet(tok, BUILT_IN_PROMPT, "built-in test problems", test);
        return new TrainingTask(name, train, test, AnswerFormat.GSM8K, tok, BUILT_IN_PROMPT);
    }

    /**
     * A task from jsonl files; the test file must have the train file's answer form.
     *
     * @param tokenizer the model's tokenizer, or null for a character tokenizer of the files' alphabet
     */
    public static TrainingTask fromFiles(Path train, Path test, Tokenizer tokenizer) throws IOException {
        TaskData tr = TaskFiles.read(train), te = TaskFiles.read(test);
        if (tr.format() != te.format()) {
            throw new IllegalArgumentException("--train is " + tr.format() + " but --test is " + te.format());
        }
        Tokenizer tok = tokenizer != null ? tokenizer : charTokenizer(tr.problems(), te.problems(), FILE_PROMPT);
        requireAlphabet(tok, FILE_PROMPT, train.toString(), tr.problems());
        requireAlphabet(tok, FILE_PROMPT, test.toString(), te.problems());
        return new TrainingTask(
                train.getFileName().toString(), tr.problems(), te.problems(), tr.format(), tok, FILE_PROMPT);
    }

    /**
     * For a character tokenizer (a model's fixed alphabet): every character of the prompt template and of each
     * problem's question and solution is in the alphabet.
     *
     * @throws IllegalArgumentException naming the source, the problem's id, the field, the character and its position
     */
    static void requireAlphabet(Tokenizer tokenizer, String template, String source, List<Problem> problems) {
        if (!(tokenizer instanceof CharTokenizer c)) return; // byte-level BPE encodes any text
        String fixed = template.replace(TrainingTask.QUESTION, "");
        int bad = c.firstUnknown(fixed);
        if (bad >= 0) {
            throw new IllegalArgumentException("the prompt template " + quote(template) + " has "
                    + CharTokenizer.describe(fixed.codePointAt(bad)) + ", which is not in the model's alphabet: the "
                    + "model was trained on other text (make a base for this data with spo4j sft --train ...)");
        }
        for (Problem p : problems) {
            for (String field : List.of("question", "solution")) {
                String text = field.equals("question") ? p.question() : p.solution();
                bad = c.firstUnknown(text);
                if (bad >= 0) {
                    int line = text.substring(0, bad).split("\n", -1).length;
                    throw new IllegalArgumentException(source + ", problem " + p.id() + ": its " + field + " has "
                            + CharTokenizer.describe(text.codePointAt(bad)) + " at character " + (bad + 1)
                            + (line > 1 ? " (line " + line + " of the " + field + ")" : "") + ", which is not in the "
                            + "model's alphabet: the model was trained on other text");
                }
            }
        }
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n") + "\"";
    }

    /** A character tokenizer whose alphabet is every character of the prompts and solutions. */
    public static CharTokenizer charTokenizer(List<Problem> train, List<Problem> test, String template) {
        List<String> texts = new ArrayList<>();
        texts.add(template.replace(TrainingTask.QUESTION, ""));
        for (List<Problem> list : List.of(train, test)) {
            for (Problem p : list) {
                texts.add(p.question());
                texts.add(p.solution());
            }
        }
        return CharTokenizer.fromTexts(texts);
    }

    /**
     * The built-in policy for a character tokenizer: a Llama with tied embeddings, {@code hidden} wide (heads of 16,
     * half as many KV heads), {@code layers} deep, MLP 2 × hidden, 512 positions.
     */
    public static ModelConfig builtInModel(int vocabSize, int hidden, int layers) {
        if (hidden < 16 || hidden % 16 != 0)
            throw new IllegalArgumentException("hidden must be a multiple of 16, got " + hidden);
        if (layers < 1) throw new IllegalArgumentException("layers must be >= 1, got " + layers);
        int heads = hidden / 16;
        int kvHeads = heads % 2 == 0 ? heads / 2 : heads;
        return new ModelConfig(
                ModelConfig.Architecture.LLAMA,
                vocabSize,
                hidden,
                2 * hidden,
                layers,
                heads,
                kvHeads,
                16,
                1e-6,
                10000.0,
                null,
                512,
                true,
                false,
                CharTokenizer.BOS,
                new int[] {CharTokenizer.EOS},
                "float32");
    }

    /** Saves a policy and its tokenizer into a model directory (each file atomically). */
    public static void saveModel(Path dir, Policy policy, Tokenizer tokenizer) throws IOException {
        policy.save(dir);
        if (!saveTokenizer(dir, tokenizer) && !Files.exists(dir.resolve("tokenizer.json"))) {
            throw new IllegalArgumentException(
                    "tokenizer must be a character tokenizer or one read from a " + "tokenizer.json, got "
                            + (tokenizer == null ? "null" : tokenizer.getClass().getSimpleName()));
        }
    }

    /**
     * Writes a tokenizer into a model directory (each file atomically): a character tokenizer's alphabet, or the
     * {@code tokenizer.json} (and {@code tokenizer_config.json}) a Hugging Face tokenizer was read from.
     *
     * @return false, writing nothing, for any other tokenizer
     */
    public static boolean saveTokenizer(Path dir, Tokenizer tokenizer) throws IOException {
        if (tokenizer instanceof CharTokenizer c) {
            AtomicFiles.write(dir.resolve(CHAR_TOKENIZER), c.alphabet().getBytes(StandardCharsets.UTF_8));
            return true;
        }
        if (tokenizer instanceof BpeTokenizer b && !b.sourceFiles().isEmpty()) {
            for (var f : b.sourceFiles().entrySet()) AtomicFiles.write(dir.resolve(f.getKey()), f.getValue());
            return true;
        }
        return false;
    }

    /** The tokenizer of a model directory. */
    public static Tokenizer loadTokenizer(Path dir) throws IOException {
        if (dir == null) throw new IllegalArgumentException("dir must not be null");
        if (!Files.exists(dir)) throw new IllegalArgumentException("model directory " + dir + " does not exist");
        if (!Files.isDirectory(dir))
            throw new IllegalArgumentException("model directory " + dir + " is not a directory");
        Path chars = dir.resolve(CHAR_TOKENIZER), hf = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(chars)) {
            String alphabet;
            try {
                alphabet = Files.readString(chars, StandardCharsets.UTF_8);
            } catch (CharacterCodingException e) {
                throw new IOException(chars + " is not valid UTF-8: corrupt", e);
            }
            CharTokenizer tokenizer;
            try {
                tokenizer = new CharTokenizer(alphabet);
            } catch (IllegalArgumentException e) {
                throw new IOException(chars + " is not a character tokenizer's alphabet: " + e.getMessage(), e);
            }
            // spo4j writes the alphabet and the config together: a vocabulary that differs means one is damaged.
            Path config = dir.resolve("config.json");
            if (Files.exists(config)) {
                int vocab = ModelConfig.fromJson(config).vocabSize();
                if (vocab != tokenizer.vocabSize()) {
                    throw new IOException(chars + " gives a vocabulary of " + tokenizer.vocabSize() + " tokens but "
                            + config + " has vocab_size " + vocab + ": the files do not belong together (truncated "
                            + "or corrupt)");
                }
            }
            return tokenizer;
        }
        if (Files.isRegularFile(hf)) return BpeTokenizer.fromJson(hf);
        throw new IOException(dir + " has neither " + CHAR_TOKENIZER + " nor tokenizer.json");
    }
}
