package io.github.spo4j.tasks;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads GSM8K-format jsonl: one JSON object per line with a {@code question} and an {@code answer} holding the worked
 * steps and a final {@code "#### answer"}. Blank lines are skipped; ids count the problems from 0 in file order.
 */
public final class Gsm8kJsonl {
    private Gsm8kJsonl() {}

    /**
     * @throws TaskFormatException naming the file and line for a line that is not such an object, or an answer
     *                             without a final {@code ####} answer
     */
    public static List<Problem> read(Path file) throws IOException {
        if (file == null) throw new IllegalArgumentException("file must not be null");
        List<Problem> out = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                JsonObject o;
                try {
                    JsonElement e = JsonParser.parseString(line);
                    if (!e.isJsonObject()) throw new TaskFormatException(file, lineNo, "not a JSON object");
                    o = e.getAsJsonObject();
                } catch (JsonParseException e) {
                    throw new TaskFormatException(file, lineNo, "invalid JSON: " + TaskFormatException.jsonReason(e));
                }
                String question = string(o, "question", file, lineNo);
                String answer = string(o, "answer", file, lineNo);
                final int at = lineNo;
                String gold = Gsm8kAnswers.extract(answer)
                        .orElseThrow(
                                () -> new TaskFormatException(file, at, "the answer has no final \"#### answer\""));
                out.add(new Problem(out.size(), question, answer, gold));
            }
        }
        return out;
    }

    private static String string(JsonObject o, String field, Path file, int line) throws TaskFormatException {
        JsonElement e = o.get(field);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new TaskFormatException(file, line, "field \"" + field + "\" is missing or not a string");
        }
        return e.getAsString();
    }
}
