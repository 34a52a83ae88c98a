// A small persistent worker pool for the CPU kernels. Work is split into chunks whose boundaries depend
// only on the problem size, each chunk writes its partial results to its own slot, and the caller reduces
// the slots in chunk order: results are bit-identical for any thread count and any scheduling.
#pragma once

#include <cstdint>
#include <functional>

namespace spo4j {

int num_threads();
void set_num_threads(int n);

// Calls body(chunk) once for every chunk in [0, num_chunks), on the pool and the calling thread.
// Concurrent callers (or a call from inside a body) run serially on their own thread instead of waiting.
void parallel_for(int64_t num_chunks, const std::function<void(int64_t)>& body);

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace spo4j
