// Hand-made hostile files, one per resource bound: each header declares something absurd and
// must be rejected with this exact error, before any large allocation or long loop.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "anser/model.h"
#include "archive_builder.h"
#include "io/formats.h"
#include "tokenizer/world_vocab.h"

namespace anser {
namespace {

using testing_io::BuildZip;
using testing_io::FakeTensor;
using testing_io::StateDictPickle;
using testing_io::TestDir;
using testing_io::WriteBytes;
using testing_io::ZipSpec;

std::string Le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}
std::string GgufString(const std::string& s) { return Le(s.size(), 8) + s; }
std::string GgufHeader(uint64_t n_tensors, uint64_t n_kv) {
  return "GGUF" + Le(3, 4) + Le(n_tensors, 8) + Le(n_kv, 8);
}

std::string Write(const std::string& name, const std::string& bytes) {
  const std::string path = TestDir() + "/" + name;
  WriteBytes(path, bytes);
  return path;
}

// A file of `size` bytes that starts with `head` and is sparse after it (no disk used).
std::string WriteSparse(const std::string& name, const std::string& head, uint64_t size) {
  const std::string path = Write(name, head);
  EXPECT_EQ(::truncate(path.c_str(), static_cast<off_t>(size)), 0);
  return path;
}

template <typename T>
std::string ErrorOf(const Result<T>& r) {
  return r.ok() ? "(loaded)" : r.message();
}

// A torch.save archive of `pickle` as archive/data.pkl and the storages given.
std::string Pth(const std::string& pickle, std::vector<ZipSpec::Entry> storages = {}) {
  ZipSpec spec;
  spec.entries.push_back({"archive/data.pkl", pickle});
  for (auto& e : storages) spec.entries.push_back(std::move(e));
  return BuildZip(spec);
}

TEST(HostileFiles, PthTensorOfTenToTheTwelveElements) {
  FakeTensor t;
  t.name = "w", t.key = "0", t.storage_numel = 4, t.shape = {1000000, 1000000};
  const std::string path =
      Write("big.pth", Pth(StateDictPickle({t}, 2), {{"archive/data/0", std::string(16, '\0')}}));
  EXPECT_EQ(ErrorOf(LoadTorchPth(path)),
            "[torch_pth] tensor 'w': offset 0 + 1000000000000 elements of f32 exceed storage '0' "
            "of 16 bytes in " +
                path);
}

TEST(HostileFiles, GgufTwoToTheThirtyTwoTensors) {
  const std::string path =
      Write("many.gguf", GgufHeader(uint64_t{1} << 32, 0) + std::string(64, '\0'));
  EXPECT_EQ(ErrorOf(LoadGguf(path)), "[gguf] tensor count 4294967296 exceeds the file in " + path);
}

TEST(HostileFiles, GgufTensorCountAboveTheLimitInAFileLargeEnough) {
  const std::string path = WriteSparse("limit.gguf", GgufHeader(65537, 0), 24 + 65537 * 32);
  EXPECT_EQ(ErrorOf(LoadGguf(path)),
            "[gguf] tensor count 65537 is above the limit of 65536 tensors in " + path);
}

TEST(HostileFiles, GgufFourGigabyteString) {
  // Key "k", type string, a length of 4 GiB: the value would start at byte 45.
  const std::string path = Write("string.gguf", GgufHeader(0, 1) + GgufString("k") + Le(8, 4) +
                                                    Le(uint64_t{1} << 32, 8) + "abc");
  EXPECT_EQ(ErrorOf(LoadGguf(path)),
            "[gguf] truncated value of 'k' (4294967296 bytes) at byte 45 in " + path);
}

TEST(HostileFiles, GgufFourGigabyteKey) {
  const std::string path =
      WriteSparse("key.gguf", GgufHeader(0, 1) + Le(uint64_t{1} << 32, 8), uint64_t{5} << 30);
  EXPECT_EQ(ErrorOf(LoadGguf(path)),
            "[gguf] metadata key of 4294967296 bytes at byte 24 is longer than 65535 in " + path);
}

TEST(HostileFiles, GgufArrayItemsAboveTheLimit) {
  // A u8 array of 2^22 + 1 items, all present: each would cost a parsed value of ~100 bytes.
  const uint64_t count = (uint64_t{1} << 22) + 1;
  const std::string head = GgufHeader(0, 1) + GgufString("k") + Le(9, 4) + Le(0, 4) + Le(count, 8);
  const std::string path = WriteSparse("array.gguf", head, head.size() + count);
  EXPECT_EQ(ErrorOf(LoadGguf(path)),
            "[gguf] metadata 'k' claims 4194305 items, above the limit of 4194304 array items in "
            "all in " +
                path);
}

TEST(HostileFiles, GgufMetadataKeysAboveTheLimit) {
  const std::string path = WriteSparse("keys.gguf", GgufHeader(0, 4097), 24 + 4097 * 13);
  EXPECT_EQ(ErrorOf(LoadGguf(path)),
            "[gguf] metadata count 4097 is above the limit of 4096 keys in " + path);
}

// One f32 tensor info: name, 1 dimension of `n`, type 0, `offset`.
std::string GgufTensorInfo(const std::string& name, uint64_t n, uint64_t offset) {
  return GgufString(name) + Le(1, 4) + Le(n, 8) + Le(0, 4) + Le(offset, 8);
}

TEST(HostileFiles, GgufOverlappingTensors) {
  std::string bytes = GgufHeader(2, 0) + GgufTensorInfo("a", 8, 0) + GgufTensorInfo("b", 8, 0);
  bytes.resize((bytes.size() + 31) / 32 * 32 + 64, '\0');
  const std::string path = Write("overlap.gguf", bytes);
  EXPECT_EQ(ErrorOf(LoadGguf(path)),
            "[gguf] tensors 'a' and 'b' overlap (bytes 0+32 and 0+32) in " + path);
}

TEST(HostileFiles, GgufOffsetPastTheEndOfTheFile) {
  std::string bytes = GgufHeader(1, 0) + GgufTensorInfo("a", 4, 4096);
  bytes.resize((bytes.size() + 31) / 32 * 32 + 64, '\0');
  const std::string path = Write("past.gguf", bytes);
  EXPECT_EQ(ErrorOf(LoadGguf(path)),
            "[gguf] tensor 'a' (16 bytes at offset 4096) runs past the end of the file in " + path);
}

std::string Safetensors(const std::string& header, size_t data_bytes) {
  return Le(header.size(), 8) + header + std::string(data_bytes, '\0');
}

TEST(HostileFiles, SafetensorsOverlappingTensors) {
  const std::string path =
      Write("overlap.safetensors",
            Safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                        R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                        24));
  EXPECT_EQ(ErrorOf(LoadSafetensors(path)),
            "[safetensors] tensors 'a' and 'b' overlap (data_offsets 0+16 and 8+16) in " + path);
}

TEST(HostileFiles, SafetensorsOffsetsPastTheEndOfTheFile) {
  const std::string path =
      Write("past.safetensors",
            Safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[4096,4112]}})", 16));
  EXPECT_EQ(
      ErrorOf(LoadSafetensors(path)),
      "[safetensors] tensor 'a': data_offsets [4096, 4112] outside the 16-byte data region in " +
          path);
}

TEST(HostileFiles, SafetensorsTenToTheTwelveElements) {
  const std::string path = Write(
      "big.safetensors",
      Safetensors(R"({"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,16]}})", 16));
  EXPECT_EQ(ErrorOf(LoadSafetensors(path)),
            "[safetensors] tensor 'a': data_offsets span 16 bytes, shape (1000000, 1000000) needs "
            "4000000000000 in " +
                path);
}

TEST(HostileFiles, SafetensorsHeaderAboveTheLimit) {
  const uint64_t header = uint64_t{17} << 20;
  const std::string path = WriteSparse("header.safetensors", Le(header, 8), 8 + header);
  EXPECT_EQ(ErrorOf(LoadSafetensors(path)),
            "[safetensors] header of 17825792 bytes is above the limit of 16777216 in " + path);
}

TEST(HostileFiles, PickleNestedAMillionDeep) {
  // A million empty lists pushed, each to be appended into the one below: nesting needs stack.
  const std::string pickle =
      "\x80\x02" + std::string(1000000, ']') + std::string(999999, 'a') + ".";
  const std::string path = Write("deep.pth", Pth(pickle));
  // The 65537th push, the list at offset 2 + 65536, fails once its opcode has been read.
  EXPECT_EQ(ErrorOf(LoadTorchPth(path)),
            "[torch_pth] archive/data.pkl: pickle: stack too deep at offset 65539 in " + path);
}

TEST(HostileFiles, ZipEntryWhoseSizesLie) {
  std::string zip = Pth(StateDictPickle({}, 2));
  const size_t central = zip.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  zip.replace(central + 20, 8, Le(0x7ffffff0, 4) + Le(0x7ffffff0, 4));  // compressed, uncompressed
  const std::string path = Write("lying.pth", zip);
  EXPECT_EQ(ErrorOf(LoadTorchPth(path)),
            "[torch_pth] corrupt zip archive (data of 'archive/data.pkl' extends past the end of "
            "the file) in " +
                path);
}

TEST(HostileFiles, StateFileWhoseShapesOverflowInt64) {
  const int64_t huge = INT32_MAX;  // four of them multiply to about 2^124
  FakeTensor t;
  t.name = "wkv", t.key = "0", t.storage_numel = 4, t.shape = {huge, huge, huge, huge};
  const std::string path =
      Write("state.pth", Pth(StateDictPickle({t}, 2), {{"archive/data/0", std::string(16, '\0')}}));
  ModelConfig c;
  c.n_layer = 1, c.n_embd = 32, c.n_head = 1, c.head_size = 32, c.n_ffn = 64, c.n_vocab = 256;
  EXPECT_EQ(ErrorOf(State::Load(path, c)),
            "[torch_pth] tensor 'wkv': invalid shape (2147483647, 2147483647, 2147483647, "
            "2147483647) in " +
                path);
}

TEST(HostileFiles, VocabularyLineOfAGigabyte) {
  const std::string path = WriteSparse("vocab.txt", "1 '", uint64_t{1} << 30);
  EXPECT_EQ(ErrorOf(ReadWorldVocab(path)),
            "[tokenizer] vocabulary file " + path +
                " is 1073741824 bytes, above the limit of 67108864: not a vocabulary file");
}

TEST(HostileFiles, VocabularyLineLongerThanAnyToken) {
  const std::string text = "1 '" + std::string(5000, 'a') + "' 5000\n";
  EXPECT_EQ(ErrorOf(ParseWorldVocab(text, "v.txt")),
            "[tokenizer] v.txt:1: line of 5009 bytes is longer than 4096: not a vocabulary file");
}

TEST(HostileFiles, VocabularyIdThatWouldSizeAHugeTable) {
  EXPECT_EQ(ErrorOf(ParseWorldVocab("16777216 'a' 1\n", "v.txt")),
            "[tokenizer] v.txt:1: token id must be a number from 1 to 1048576, got `16777216`");
}

}  // namespace
}  // namespace anser
