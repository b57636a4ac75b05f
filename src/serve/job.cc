#include "serve/job.h"

namespace anser::serve {

void Job::Push(JobEvent event) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  ready_.notify_all();
}

std::vector<JobEvent> Job::Take(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  ready_.wait_for(lock, timeout, [this] { return !events_.empty(); });
  std::vector<JobEvent> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

}  // namespace anser::serve
