/** Reports over several {@code spo4j compare} directories: the SPO-minus-GRPO gap against decisions per response. */
package io.github.spo4j.bench.compare;
