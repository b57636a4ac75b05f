// Importance matrix files: Anser's GGUF round trip, and llama.cpp's legacy .dat read as
// llama-quantize reads it (values are (Σx²/count)·ncall: importance = value / ncall).
#include "io/imatrix_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "io/formats.h"
#include "test_files.h"

namespace anser {
namespace {

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

TEST(ImatrixFile, GgufRoundTrip) {
  Imatrix m;
  m.entries["blk.0.time_mix_key.weight"] = {{1.0f, 4.0f, 9.0f}, 2.0f};
  m.entries["output.weight"] = {{0.5f, 0.25f}, 0.0f};
  m.datasets = {"calib.txt"};
  m.chunk_count = 7;
  m.chunk_size = 512;
  const std::string path = testing::ScratchPath("m.imatrix.gguf");
  ASSERT_TRUE(SaveImatrix(path, m).ok());
  auto gguf = LoadGguf(path);  // the layout llama.cpp's loader expects
  ASSERT_TRUE(gguf.ok()) << gguf.message();
  EXPECT_EQ(gguf->metadata.Find("general.type")->s, "imatrix");
  const TensorView* sum2 = gguf->tensors.Find("blk.0.time_mix_key.weight.in_sum2");
  ASSERT_NE(sum2, nullptr);
  EXPECT_EQ(sum2->shape, (std::vector<int64_t>{1, 3}));  // ne {3, 1}
  EXPECT_NE(gguf->tensors.Find("blk.0.time_mix_key.weight.counts"), nullptr);

  auto back = LoadImatrix(path);
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(back->datasets, m.datasets);
  EXPECT_EQ(back->chunk_count, 7u);
  EXPECT_EQ(back->chunk_size, 512u);
  ASSERT_EQ(back->entries.size(), 2u);
  EXPECT_EQ(back->entries.at("blk.0.time_mix_key.weight").sum2, m.entries.at("blk.0.time_mix_key.weight").sum2);
  const auto importance = back->Importance();
  EXPECT_EQ(importance.at("blk.0.time_mix_key.weight"), (std::vector<float>{0.5f, 2.0f, 4.5f}));
  EXPECT_EQ(importance.at("output.weight"), (std::vector<float>{1.0f, 1.0f}));  // nothing seen
}

TEST(ImatrixFile, ReadsLlamaCppsLegacyDat) {
  std::string bytes;
  Put<int32_t>(&bytes, 1);
  const std::string name = "blk.1.channel_mix_value.weight";
  Put<int32_t>(&bytes, static_cast<int32_t>(name.size()));
  bytes += name;
  Put<int32_t>(&bytes, 4);  // ncall
  Put<int32_t>(&bytes, 2);  // nval
  Put<float>(&bytes, 8.0f);
  Put<float>(&bytes, 2.0f);
  Put<int32_t>(&bytes, 10);  // chunks
  Put<int32_t>(&bytes, 4);
  bytes += "wiki";
  const std::string path = testing::ScratchPath("legacy.dat");
  testing::WriteAll(path, bytes);
  auto m = LoadImatrix(path);
  ASSERT_TRUE(m.ok()) << m.message();
  EXPECT_EQ(m->chunk_count, 10u);
  EXPECT_EQ(m->datasets, std::vector<std::string>{"wiki"});
  EXPECT_EQ(m->Importance().at(name), (std::vector<float>{2.0f, 0.5f}));

  testing::WriteAll(path, bytes.substr(0, 20));  // cut inside the name
  auto cut = LoadImatrix(path);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.message().find("not a legacy imatrix"), std::string::npos) << cut.message();
}

TEST(ImatrixFile, RefusesAModelGguf) {
  auto m = LoadImatrix(std::string(ANSER_SHARED_DIR) + "/fixtures/gguf-quants/model.q8_0.pure.gguf");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.message().find("not an importance matrix"), std::string::npos) << m.message();
}

}  // namespace
}  // namespace anser
