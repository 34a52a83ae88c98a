/**
 * Tasks: problems with worked solutions, their answer checkers and rewards (SPO_SPEC §5). The built-in
 * {@link io.github.spo4j.tasks.ArithmeticTask} and GSM8K-format jsonl share GSM8K's {@code "#### answer"} form,
 * checked and scored by {@link io.github.spo4j.tasks.Gsm8kAnswers}.
 */
package io.github.spo4j.tasks;
