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
 * Reads MATH-format jsonl: one JSON object per line with a {@code problem} and a {@code solution} holding the worked
 * solution with a {@code \boxed{answer}}. The gold answer is the optional {@code answer} field when present (as in
 * MATH500), otherwise the solution's {@link MathAnswers#lastBoxed last boxed} content, stripped. Other fields are
 * ignored; blank lines are skipped; ids count the problems from 0 in file order.
 */
public final class MathJsonl {
    private MathJsonl() {}

    /**
     * @throws TaskFormatException naming the file and line for a line that is not such an object, a non-string or
     *                             blank {@code answer}, or a solution without a {@code \boxed{}} answer when there is
     *                             no {@code answer} field
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
                JsonObject o = object(line, file, lineNo);
                String problem = string(o, "problem", file, lineNo);
                String solution = string(o, "solution", file, lineNo);
                String gold;
                if (o.has("answer")) {
                    gold = string(o, "answer", file, lineNo).strip();
                    if (gold.isEmpty()) throw new TaskFormatException(file, lineNo, "field \"answer\" is blank");
                } else {
                    gold = MathAnswers.lastBoxed(solution).map(String::strip).orElse("");
                    if (gold.isEmpty()) {
                        throw new TaskFormatException(
                                file,
                                lineNo,
                                "the solution has no non-empty \\boxed{} answer and there is no \"answer\" field");
                    }
                }
                out.add(new Problem(out.size(), problem, solution, gold));
            }
        }
        return out;
    }

    static JsonObject object(String line, Path file, int lineNo) throws TaskFormatException {
        try {
            JsonElement e = JsonParser.parseString(line);
            if (!e.isJsonObject()) throw new TaskFormatException(file, lineNo, "not a JSON object");
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new TaskFormatException(file, lineNo, "invalid JSON: " + TaskFormatException.jsonReason(e));
        }
    }

    private static String string(JsonObject o, String field, Path file, int line) throws TaskFormatException {
        JsonElement e = o.get(field);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new TaskFormatException(file, line, "field \"" + field + "\" is missing or not a string");
        }
        return e.getAsString();
    }
}
