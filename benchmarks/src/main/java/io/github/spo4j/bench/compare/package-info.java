/** Reports over several {@code spo4j compare} directories: the SPO-minus-GRPO gap against decisions per response
 * ({@link io.github.spo4j.bench.compare.DecisionsCurve}) and over SFT bases
 * ({@link io.github.spo4j.bench.compare.AcrossBases}).
 */
package io.github.spo4j.bench.compare;
