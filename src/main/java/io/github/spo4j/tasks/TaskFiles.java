package io.github.spo4j.tasks;

import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads a task's jsonl file in whichever of the known forms it is. */
public final class TaskFiles {
    private static final String FORMS =
            "expected GSM8K fields \"question\" and \"answer\" or MATH fields " + "\"problem\" and \"solution\"";

    private TaskFiles() {}

    /**
     * The file's problems and answer form. The form is decided by the first non-blank line's fields:
     * {@code question} and {@code answer} for {@link AnswerFormat#GSM8K} ({@link Gsm8kJsonl}), {@code problem} and
     * {@code solution} for {@link AnswerFormat#MATH} ({@link MathJsonl}); the whole file is then read in that form.
     *
     * @throws TaskFormatException naming the file and line when the first object has neither pair of fields or
     *                             both, when the file has no non-blank line, or when a line is not of the form
     */
    public static TaskData read(Path file) throws IOException {
        if (file == null) throw new IllegalArgumentException("file must not be null");
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "does not exist");
        try {
            AnswerFormat format = detect(file);
            return new TaskData(format == AnswerFormat.GSM8K ? Gsm8kJsonl.read(file) : MathJsonl.read(file), format);
        } catch (CharacterCodingException e) {
            throw new IOException(file + " is not valid UTF-8 text", e);
        }
    }

    private static AnswerFormat detect(Path file) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonObject o = MathJsonl.object(line, file, lineNo);
                boolean gsm8k = o.has("question") && o.has("answer");
                boolean math = o.has("problem") && o.has("solution");
                if (gsm8k && math) throw new TaskFormatException(file, lineNo, "has both forms' fields; " + FORMS);
                if (gsm8k) return AnswerFormat.GSM8K;
                if (math) return AnswerFormat.MATH;
                throw new TaskFormatException(file, lineNo, FORMS + ", found fields " + o.keySet());
            }
            throw new TaskFormatException(
                    file, Math.max(lineNo, 1), "no problems: the file has no non-blank line; " + FORMS);
        }
    }
}
