#include "serve_test_util.h"

#include <gtest/gtest.h>

#include "anser/tokenizer.h"
#include "model/fixtures.h"

namespace anser::serve::testing {

using nlohmann::json;

std::unique_ptr<Service> MakeService(const std::string& fixture, ServiceOptions options) {
  const std::string dir = anser::testing::SharedDir() + "/fixtures/" + fixture;
  const std::string path = dir + (fixture == "tiny-rwkv7-834K" ? "/model.fp32.pth" : "/model.bf16.pth");
  auto model = Model::Load(path);
  EXPECT_TRUE(model.ok()) << model.message();
  auto tokenizer = TokenizerForModel(path, (*model)->config().n_vocab,
                                     anser::testing::SharedDir() + "/vocab/rwkv_vocab_v20230424.txt");
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.message();
  options.model_name = fixture;
  options.engine.threads = 2;
  return std::make_unique<Service>(std::move(*model), std::move(*tokenizer), ChatTemplate{}, nullptr, options);
}

Pending::Pending(Service& s, const json& body, Endpoint endpoint) {
  const SamplerOptions& defaults =
      endpoint == Endpoint::kChatCompletions ? s.options().chat_sampling : s.options().completion_sampling;
  Parsed<GenerationRequest> parsed = ParseGenerationRequest(body, endpoint, s.options().limits, defaults);
  if (auto* e = std::get_if<ApiError>(&parsed)) {
    refused_ = *e;
    return;
  }
  const GenerationRequest& r = std::get<GenerationRequest>(parsed);
  Parsed<std::shared_ptr<Job>> job = s.Prepare(r, Clock::now());
  if (auto* e = std::get_if<ApiError>(&job)) {
    refused_ = *e;
    return;
  }
  job_ = std::get<std::shared_ptr<Job>>(job);
  builder_ = std::make_unique<ResponseBuilder>(s.ResponseFor(r));
  if (s.engine().Submit(job_) != Engine::Admission::kQueued) refused_ = ApiError{429, "rate_limit_error", "queue full", "", ""};
}

json Pending::Wait() {
  if (refused_) return ErrorJson(*refused_);
  while (!builder_->done()) {
    for (JobEvent& e : job_->Take(std::chrono::milliseconds(100))) builder_->Collect(e);
  }
  if (builder_->error()) return ErrorJson(*builder_->error());
  return builder_->Response();
}

void Pending::WaitStarted() {
  if (refused_) return;
  bool started = false;
  while (!started) {
    for (JobEvent& e : job_->Take(std::chrono::milliseconds(100))) {
      builder_->Collect(e);
      started = true;
    }
  }
}

std::string TextOf(const json& response, size_t index) {
  const json& choice = response.at("choices").at(index);
  return choice.contains("message") ? choice["message"]["content"].get<std::string>() : choice["text"].get<std::string>();
}

}  // namespace anser::serve::testing
