// Quantized quality on the trained tiny model (byte-level, rows 64 wide): perplexity of the
// first 20 KB of tinyshakespeare and the mean KL divergence to the float32 model, for every
// type. q8_0 must stay within 0.5 % of the float32 perplexity.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "anser/model.h"
#include "model/convert.h"
#include "test_files.h"

namespace anser {
namespace {

constexpr size_t kTextBytes = 20000;

std::string TempPath(const std::string& name) { return testing::ScratchPath(name); }

std::vector<int> Text() {
  std::ifstream in(std::string(ANSER_SHARED_DIR) + "/data/tinyshakespeare.txt", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  s.resize(std::min(s.size(), kTextBytes));
  std::vector<int> tokens;
  for (unsigned char c : s) tokens.push_back(c);
  return tokens;
}

// Log-softmax of every position's logits ([n][vocab]).
std::vector<double> LogProbs(const std::shared_ptr<const Model>& model, const std::vector<int>& tokens) {
  Session session(model, {0});
  State state(model->config());
  std::vector<float> logits;
  session.Prefill(state, tokens, true, &logits);
  const size_t V = static_cast<size_t>(model->config().n_vocab);
  std::vector<double> lp(logits.size());
  for (size_t t = 0; t < tokens.size(); ++t) {
    double mx = -INFINITY;
    for (size_t v = 0; v < V; ++v) mx = std::max(mx, static_cast<double>(logits[t * V + v]));
    double sum = 0;
    for (size_t v = 0; v < V; ++v) sum += std::exp(logits[t * V + v] - mx);
    const double lse = mx + std::log(sum);
    for (size_t v = 0; v < V; ++v) lp[t * V + v] = logits[t * V + v] - lse;
  }
  return lp;
}

struct Quality {
  double ppl = 0, kl = 0;
};

Quality Measure(const std::vector<double>& ref, const std::vector<double>& got, const std::vector<int>& tokens,
                size_t V) {
  Quality q;
  double nll = 0, kl = 0;
  const size_t n = tokens.size() - 1;
  for (size_t t = 0; t < n; ++t) {
    nll -= got[t * V + static_cast<size_t>(tokens[t + 1])];
    for (size_t v = 0; v < V; ++v) kl += std::exp(ref[t * V + v]) * (ref[t * V + v] - got[t * V + v]);
  }
  q.ppl = std::exp(nll / static_cast<double>(n));
  q.kl = kl / static_cast<double>(n);
  return q;
}

class QuantQuality : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokens_ = new std::vector<int>(Text());
    auto m = Model::Load(std::string(ANSER_SHARED_DIR) + "/fixtures/tiny-rwkv7-834K/model.fp32.pth");
    ASSERT_TRUE(m.ok()) << m.message();
    model_ = new std::shared_ptr<const Model>(*m);
    ref_ = new std::vector<double>(LogProbs(*model_, *tokens_));
  }
  static void TearDownTestSuite() {
    delete tokens_;
    delete model_;
    delete ref_;
  }

  static Quality Run(const std::string& label, const ConvertOptions& options) {
    const std::string path = TempPath(label + ".gguf");
    const Status s = SaveModel(**model_, path, options);
    EXPECT_TRUE(s.ok()) << s.message();
    auto q = Model::Load(path);
    EXPECT_TRUE(q.ok()) << q.message();
    if (!q.ok()) return {};
    const Quality r = Measure(*ref_, LogProbs(*q, *tokens_), *tokens_, 256);
    std::printf("%-28s ppl %.5f  mean KL %.3e  file %zu bytes\n", label.c_str(), r.ppl, r.kl,
                static_cast<size_t>(std::filesystem::file_size(path)));
    return r;
  }

  static std::vector<int>* tokens_;
  static std::shared_ptr<const Model>* model_;
  static std::vector<double>* ref_;
};

std::vector<int>* QuantQuality::tokens_ = nullptr;
std::shared_ptr<const Model>* QuantQuality::model_ = nullptr;
std::vector<double>* QuantQuality::ref_ = nullptr;

// Sanitizer builds run about 15x slower: there only the bound is checked, the other types are
// measured by the Release run.
#ifdef __SANITIZE_ADDRESS__
constexpr const char* kTypes[] = {"q8_0"};
#else
constexpr const char* kTypes[] = {"f32", "f16", "bf16", "q8_0", "q5_0", "q4_1", "q4_0"};
#endif

TEST_F(QuantQuality, EveryTypeAndQ8Bound) {
  const Quality f32 = Measure(*ref_, *ref_, *tokens_, 256);
  std::printf("%-28s ppl %.5f\n", "f32 (.pth)", f32.ppl);
  for (const char* name : kTypes) {
    ConvertOptions options;
    options.dtype = ParseConvertDType(name);
    const Quality q = Run(name, options);
    if (std::string(name) == "f32") {
      EXPECT_EQ(q.kl, 0.0);
    }
    if (std::string(name) == "q8_0") {
      EXPECT_LE(q.ppl, f32.ppl * 1.005) << "q8_0 perplexity more than 0.5 % above f32";
    }
  }
}

}  // namespace
}  // namespace anser
