#include "parallel.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace spo4j {
namespace {

class Pool {
  public:
    explicit Pool(int threads) { resize(threads); }
    ~Pool() { stop_workers(); }

    int size() {
        std::lock_guard<std::mutex> g(run_mutex_);
        return static_cast<int>(workers_.size()) + 1;
    }

    void resize(int threads) {
        std::lock_guard<std::mutex> g(run_mutex_);
        stop_workers();
        stopping_ = false;
        for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
    }

    void run(int64_t num_chunks, const std::function<void(int64_t)>& body) {
        std::unique_lock<std::mutex> busy(run_mutex_, std::try_to_lock);
        if (!busy.owns_lock() || workers_.empty() || num_chunks < 2) {
            for (int64_t c = 0; c < num_chunks; ++c) body(c);
            return;
        }
        {
            std::lock_guard<std::mutex> g(m_);
            body_ = &body;
            num_chunks_ = num_chunks;
            next_.store(0);
            active_ = static_cast<int>(workers_.size());
            ++generation_;
        }
        cv_.notify_all();
        drain();
        std::unique_lock<std::mutex> g(m_);
        done_cv_.wait(g, [this] { return active_ == 0; });
        body_ = nullptr;
    }

  private:
    void drain() {
        for (int64_t c = next_.fetch_add(1); c < num_chunks_; c = next_.fetch_add(1)) (*body_)(c);
    }

    void worker_loop() {
        uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> g(m_);
                cv_.wait(g, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
            }
            drain();
            std::lock_guard<std::mutex> g(m_);
            if (--active_ == 0) done_cv_.notify_one();
        }
    }

    void stop_workers() {
        {
            std::lock_guard<std::mutex> g(m_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
    }

    std::mutex run_mutex_;  // one parallel_for at a time; others run inline
    std::mutex m_;
    std::condition_variable cv_, done_cv_;
    std::vector<std::thread> workers_;
    const std::function<void(int64_t)>* body_ = nullptr;
    std::atomic<int64_t> next_{0};
    int64_t num_chunks_ = 0;
    int active_ = 0;
    uint64_t generation_ = 0;
    bool stopping_ = false;
};

int default_threads() {
    unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 1 : static_cast<int>(hc);
}

Pool& pool() {
    static Pool p(default_threads());
    return p;
}

}  // namespace

int num_threads() { return pool().size(); }
void set_num_threads(int n) { pool().resize(n < 1 ? 1 : n); }
void parallel_for(int64_t num_chunks, const std::function<void(int64_t)>& body) { pool().run(num_chunks, body); }

}  // namespace spo4j
