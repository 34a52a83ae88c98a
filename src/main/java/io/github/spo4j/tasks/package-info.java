/**
 * Tasks: problems with worked solutions, their answer checkers and rewards (SPO_SPEC §5). The built-in
 * {@link io.github.spo4j.tasks.ArithmeticTask} and GSM8K-format jsonl share GSM8K's {@code "#### answer"} form,
 * checked and scored by {@link io.github.spo4j.tasks.Gsm8kAnswers}; MATH-format jsonl uses
 * {@code \boxed{answer}} and {@link io.github.spo4j.tasks.MathAnswers}. {@link io.github.spo4j.tasks.TaskFiles}
 * reads either form and names it with an {@link io.github.spo4j.tasks.AnswerFormat}.
 */
package io.github.spo4j.tasks;
