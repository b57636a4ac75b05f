// The C++ API of an installed Anser: `cpp_consumer MODEL LOGITS TOKEN...` runs the tokens from
// the zero state and checks every position's logits against the reference file.
#include <anser/model.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  auto model = anser::Model::Load(argv[1]);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.message().c_str());
    return 1;
  }
  std::vector<int> tokens;
  for (int i = 3; i < argc; ++i) tokens.push_back(std::atoi(argv[i]));
  std::ifstream in(argv[2], std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> ref(bytes.size() / sizeof(float));
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(ref.data()));

  anser::Session session(*model);
  anser::State state((*model)->config());
  std::vector<float> logits;
  session.Prefill(state, tokens, /*all_positions=*/true, &logits);
  const size_t n_vocab = static_cast<size_t>((*model)->config().n_vocab);
  if (logits.size() != ref.size() || ref.size() != tokens.size() * n_vocab) return 1;
  // The fixtures' float32 bar: max |d| <= 1e-4 * std of the reference row, the same argmax.
  for (size_t row = 0; row < tokens.size(); ++row) {
    const float* got = logits.data() + row * n_vocab;
    const float* want = ref.data() + row * n_vocab;
    double mean = 0.0, var = 0.0, worst = 0.0;
    for (size_t i = 0; i < n_vocab; ++i) mean += want[i];
    mean /= static_cast<double>(n_vocab);
    for (size_t i = 0; i < n_vocab; ++i) var += (want[i] - mean) * (want[i] - mean);
    for (size_t i = 0; i < n_vocab; ++i)
      worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
    const bool same_argmax =
        std::max_element(got, got + n_vocab) - got == std::max_element(want, want + n_vocab) - want;
    if (!(worst <= 1e-4 * std::sqrt(var / static_cast<double>(n_vocab))) || !same_argmax) {
      std::fprintf(stderr, "row %zu: max |dlogit| %g\n", row, worst);
      return 1;
    }
  }
  std::printf("C++ API: %zu rows match the reference\n", tokens.size());
  return 0;
}
