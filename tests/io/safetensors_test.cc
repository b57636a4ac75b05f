// LoadSafetensors / LoadSafetensorsFolder: the fixtures, folder merging, and bad headers.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "archive_builder.h"
#include "io/formats.h"

namespace anser {
namespace {

using testing_io::TestDir;
using testing_io::WriteBytes;

const std::string kFixtures = std::string(ANSER_SHARED_DIR) + "/fixtures/";

std::string Safetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

Result<TensorStore> LoadBytes(const std::string& bytes) {
  const std::string path = TestDir() + "/x.safetensors";
  WriteBytes(path, bytes);
  return LoadSafetensors(path);
}

TEST(Safetensors, Fixtures) {
  auto tiny = LoadSafetensors(kFixtures + "tiny-rwkv7-834K/hf/model.safetensors");
  ASSERT_TRUE(tiny.ok()) << tiny.message();
  EXPECT_EQ(tiny->tensors().size(), 399u);  // __metadata__ is not a tensor
  const TensorView* emb = tiny->Find("model.embeddings.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dtype, DType::kF32);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{256, 64}));
  EXPECT_EQ(tiny->tensors().front().name, "lm_head.weight");  // file order

  auto world = LoadSafetensorsFolder(kFixtures + "rand-rwkv7-L3-D128-world/hf");
  ASSERT_TRUE(world.ok()) << world.message();
  EXPECT_EQ(world->Find("lm_head.weight")->dtype, DType::kBF16);
  EXPECT_EQ(world->Find("lm_head.weight")->shape, (std::vector<int64_t>{65536, 128}));
}

TEST(Safetensors, FolderMergesSortedShards) {
  const std::string dir = TestDir();
  const std::string a(8, 'a'), b(4, 'b');
  WriteBytes(dir + "/model-00002-of-00002.safetensors",
             Safetensors(R"({"y":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", b));
  WriteBytes(dir + "/model-00001-of-00002.safetensors",
             Safetensors(R"({"__metadata__":{"format":"pt"},)"
                         R"("x":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}})", a));
  WriteBytes(dir + "/notes.txt", "ignored");
  auto store = LoadSafetensorsFolder(dir);
  ASSERT_TRUE(store.ok()) << store.message();
  ASSERT_EQ(store->tensors().size(), 2u);
  EXPECT_EQ(store->tensors()[0].name, "x");
  EXPECT_EQ(store->tensors()[1].name, "y");
  EXPECT_EQ(std::memcmp(store->tensors()[1].data, b.data(), 4), 0);

  WriteBytes(dir + "/model-00003.safetensors",
             Safetensors(R"({"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})", b));
  EXPECT_FALSE(LoadSafetensorsFolder(dir).ok());  // "x" defined twice
  EXPECT_FALSE(LoadSafetensorsFolder(TestDir()).ok());  // empty folder
  EXPECT_FALSE(LoadSafetensorsFolder(dir + "/nope").ok());
}

TEST(Safetensors, BadHeaders) {
  const std::string data(16, '\0');
  for (const std::string& bad : {
           std::string("\x01\x02", 2),
           Safetensors("{", data),
           Safetensors("[1,2]", data),
           Safetensors(R"({"t":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", data),
           Safetensors(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", data),
           Safetensors(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", data),
           Safetensors(R"({"t":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", data),
           Safetensors(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", data),
           Safetensors(R"({"t":{"dtype":"F32","shape":[1]}})", data),
           Safetensors(R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,16],)"
                       R"("data_offsets":[0,4]}})", data),
           Safetensors(R"({"t":7})", data),
       }) {
    auto r = LoadBytes(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.message().rfind("[safetensors]", 0), 0u) << r.message();
  }
  std::string huge_header(8, '\xff');
  EXPECT_FALSE(LoadBytes(huge_header + "{}").ok());
}

}  // namespace
}  // namespace anser
