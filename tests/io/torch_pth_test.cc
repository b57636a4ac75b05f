// LoadTorchPth / SaveTorchPth: the fixture checkpoints written by real torch.save, synthetic
// archives in the forms other torch versions write, and corrupt or hostile archives.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "archive_builder.h"
#include "io/formats.h"

namespace anser {
namespace {

using testing_io::BuildZip;
using testing_io::FakeTensor;
using testing_io::ReadBytes;
using testing_io::StateDictPickle;
using testing_io::TestDir;
using testing_io::WriteBytes;
using testing_io::ZipSpec;

const std::string kFixtures = std::string(ANSER_SHARED_DIR) + "/fixtures/";

std::vector<int64_t> Shape(const TensorStore& store, const std::string& name) {
  const TensorView* t = store.Find(name);
  return t == nullptr ? std::vector<int64_t>{-1} : t->shape;
}

void ExpectSameBytes(const TensorView& a, const TensorView& b) {
  ASSERT_EQ(a.nbytes(), b.nbytes()) << a.name << " vs " << b.name;
  EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes()), 0) << a.name << " vs " << b.name;
}

TEST(TorchPthFixtures, TinyModelInEveryDtype) {
  for (const auto& [file, dtype] : {std::pair{"model.fp32.pth", DType::kF32},
                                    std::pair{"model.bf16.pth", DType::kBF16},
                                    std::pair{"model.fp16.pth", DType::kF16}}) {
    SCOPED_TRACE(file);
    auto store = LoadTorchPth(kFixtures + "tiny-rwkv7-834K/" + file);
    ASSERT_TRUE(store.ok()) << store.message();
    EXPECT_EQ(store->tensors().size(), 399u);
    EXPECT_EQ(store->tensors().front().name, "emb.weight");
    EXPECT_EQ(Shape(*store, "emb.weight"), (std::vector<int64_t>{256, 64}));
    EXPECT_EQ(Shape(*store, "blocks.0.att.r_k"), (std::vector<int64_t>{1, 64}));
    EXPECT_EQ(Shape(*store, "blocks.0.att.x_r"), (std::vector<int64_t>{1, 1, 64}));
    EXPECT_EQ(Shape(*store, "blocks.0.att.w1"), (std::vector<int64_t>{64, 32}));
    EXPECT_EQ(Shape(*store, "blocks.0.ln1.weight"), (std::vector<int64_t>{64}));
    EXPECT_EQ(Shape(*store, "head.weight"), (std::vector<int64_t>{256, 64}));
    EXPECT_EQ(store->Find("blocks.0.att.v0"), nullptr);
    for (const TensorView& t : store->tensors()) {
      EXPECT_EQ(t.dtype, dtype) << t.name;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 64, 0u) << t.name;  // mapped in place
    }
  }
}

TEST(TorchPthFixtures, OtherModelsAndTrainingFiles) {
  auto world = LoadTorchPth(kFixtures + "rand-rwkv7-L3-D128-world/model.bf16.pth");
  ASSERT_TRUE(world.ok()) << world.message();
  EXPECT_EQ(world->tensors().size(), 102u);
  EXPECT_EQ(Shape(*world, "emb.weight"), (std::vector<int64_t>{65536, 128}));
  EXPECT_EQ(world->Find("emb.weight")->dtype, DType::kBF16);

  auto fp32 = LoadTorchPth(kFixtures + "rand-rwkv7-L2-D128-fp32/model.fp32.pth");
  ASSERT_TRUE(fp32.ok()) << fp32.message();
  EXPECT_EQ(fp32->tensors().size(), 69u);
  EXPECT_EQ(Shape(*fp32, "head.weight"), (std::vector<int64_t>{512, 128}));

  auto grads = LoadTorchPth(kFixtures + "train-grad-tiny/grads.fp32.pth");
  ASSERT_TRUE(grads.ok()) << grads.message();
  EXPECT_EQ(grads->tensors().size(), 399u);
  EXPECT_EQ(Shape(*grads, "blocks.0.att.r_k"), (std::vector<int64_t>{1, 64}));

  auto state = LoadTorchPth(kFixtures + "train-grad-tiny/state_tuning.fp32.pth");
  ASSERT_TRUE(state.ok()) << state.message();
  ASSERT_EQ(state->tensors().size(), 2u);
  EXPECT_EQ(Shape(*state, "init_state"), (std::vector<int64_t>{12, 1, 64, 64}));
  EXPECT_EQ(Shape(*state, "grad"), (std::vector<int64_t>{12, 1, 64, 64}));
}

TEST(TorchPthFixtures, SameBytesAsHuggingFaceSafetensors) {
  for (const std::string model : {"tiny-rwkv7-834K/model.fp32.pth",
                                  "rand-rwkv7-L3-D128-world/model.bf16.pth"}) {
    SCOPED_TRACE(model);
    auto pth = LoadTorchPth(kFixtures + model);
    ASSERT_TRUE(pth.ok()) << pth.message();
    const std::string folder = kFixtures + model.substr(0, model.find('/')) + "/hf";
    auto hf = LoadSafetensorsFolder(folder);
    ASSERT_TRUE(hf.ok()) << hf.message();
    for (const auto& [pth_name, hf_name] :
         {std::pair{"emb.weight", "model.embeddings.weight"},
          std::pair{"head.weight", "lm_head.weight"},
          std::pair{"blocks.0.att.receptance.weight", "model.layers.0.attn.r_proj.weight"},
          std::pair{"blocks.0.att.r_k", "model.layers.0.attn.r_k"},
          std::pair{"blocks.0.ffn.key.weight", "model.layers.0.ffn.key.weight"}}) {
      const TensorView* a = pth->Find(pth_name);
      const TensorView* b = hf->Find(hf_name);
      ASSERT_NE(a, nullptr) << pth_name;
      ASSERT_NE(b, nullptr) << hf_name;
      EXPECT_EQ(a->dtype, b->dtype);
      EXPECT_EQ(a->shape, b->shape);
      ExpectSameBytes(*a, *b);
    }
  }
}

// torch 1.13 wrote these files; saving what we loaded must give back the same bytes.
TEST(TorchPthSave, ReproducesTorchSaveByteForByte) {
  const std::string dir = TestDir();
  for (const std::string file : {"tiny-rwkv7-834K/model.fp32.pth",
                                 "tiny-rwkv7-834K/model.bf16.pth",
                                 "tiny-rwkv7-834K/model.fp16.pth",
                                 "train-grad-tiny/state_tuning.fp32.pth"}) {
    SCOPED_TRACE(file);
    auto store = LoadTorchPth(kFixtures + file);
    ASSERT_TRUE(store.ok()) << store.message();
    const std::string out = dir + "/" + std::filesystem::path(file).filename().string();
    ASSERT_TRUE(SaveTorchPth(out, store->tensors()).ok());
    EXPECT_TRUE(ReadBytes(out) == ReadBytes(kFixtures + file));
  }
}

TEST(TorchPthSave, RoundTripIsBitExact) {
  const std::string dir = TestDir();
  std::vector<float> f32 = {1.5f, -0.0f, 3.4e38f, 1e-45f, -7.25f, 0.1f};
  std::vector<uint16_t> f16 = {0x3c00, 0x8001, 0x7bff, 0x7e00, 0x0000, 0xfc00};
  std::vector<uint16_t> bf16 = {0x3f80, 0x7f80, 0x0001, 0xc2f7, 0x7fc1, 0x8000};
  std::vector<TensorView> tensors = {
      {"scalar", DType::kF32, {}, f32.data()},
      {"vector.f16", DType::kF16, {6}, f16.data()},
      {"matrix.bf16", DType::kBF16, {2, 3}, bf16.data()},
      {"cube", DType::kF32, {1, 2, 3}, f32.data()},
      {"four.d", DType::kF32, {1, 1, 2, 3}, f32.data()},
      {"empty", DType::kF16, {0, 4}, nullptr},
  };
  const std::string path = dir + "/round.pth";
  ASSERT_TRUE(SaveTorchPth(path, tensors).ok());
  auto store = LoadTorchPth(path);
  ASSERT_TRUE(store.ok()) << store.message();
  ASSERT_EQ(store->tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorView& got = store->tensors()[i];
    EXPECT_EQ(got.name, tensors[i].name);
    EXPECT_EQ(got.dtype, tensors[i].dtype);
    EXPECT_EQ(got.shape, tensors[i].shape);
    if (got.nbytes() > 0) ExpectSameBytes(got, tensors[i]);
  }
  // No temporary is left beside the result.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
}

TEST(TorchPthSave, RefusesBadInputAndKeepsOldFile) {
  const std::string dir = TestDir();
  const std::string path = dir + "/keep.pth";
  WriteBytes(path, "old");
  float x = 1;
  EXPECT_FALSE(SaveTorchPth(path, {{"a", DType::kF32, {1}, &x}, {"a", DType::kF32, {1}, &x}}).ok());
  EXPECT_FALSE(SaveTorchPth(path, {{"neg", DType::kF32, {-1}, &x}}).ok());
  EXPECT_FALSE(SaveTorchPth(path, {{"null", DType::kF32, {2}, nullptr}}).ok());
  EXPECT_FALSE(SaveTorchPth(dir + "/missing/dir/x.pth", {{"a", DType::kF32, {1}, &x}}).ok());
  EXPECT_EQ(ReadBytes(path), "old");
}

// --- synthetic archives -------------------------------------------------------------------

std::string Floats(std::initializer_list<float> values) {
  std::string s(values.size() * 4, '\0');
  std::memcpy(s.data(), std::data(values), s.size());
  return s;
}

struct Archive {
  std::string top = "archive";
  std::vector<FakeTensor> tensors = {
      {"w", "FloatStorage", "0", 6, 0, {2, 3}, {}, false},
      {"b", "FloatStorage", "1", 4, 1, {3}, {}, true},
  };
  std::vector<std::pair<std::string, std::string>> extra;
  int protocol = 2;
  bool zip64 = false;

  ZipSpec Spec() const {
    ZipSpec spec;
    spec.zip64 = zip64;
    spec.entries.push_back({top + "/data.pkl", StateDictPickle(tensors, protocol)});
    spec.entries.push_back({top + "/data/0", Floats({1, 2, 3, 4, 5, 6})});
    spec.entries.push_back({top + "/data/1", Floats({9, 10, 11, 12})});
    for (const auto& [name, data] : extra) spec.entries.push_back({top + "/" + name, data});
    spec.entries.push_back({top + "/version", "3\n"});
    return spec;
  }
};

Result<TensorStore> LoadBytes(const std::string& bytes, const std::string& name = "model.pth") {
  const std::string path = TestDir() + "/" + name;
  WriteBytes(path, bytes);
  return LoadTorchPth(path);
}

void ExpectArchiveTensors(const Result<TensorStore>& store) {
  ASSERT_TRUE(store.ok()) << store.message();
  ASSERT_EQ(store->tensors().size(), 2u);  // "step" (an int) is skipped
  const TensorView* w = store->Find("w");
  const TensorView* b = store->Find("b");
  ASSERT_NE(w, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(static_cast<const float*>(w->data)[5], 6.0f);
  EXPECT_EQ(b->shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(static_cast<const float*>(b->data)[0], 10.0f);  // storage offset 1
}

TEST(TorchPthSynthetic, ArchiveTopFolderAndExtraEntries) {
  Archive a;
  a.extra = {{".data/version", "3\n"}, {"byteorder", "little"}, {".data/serialization_id", "12"}};
  ExpectArchiveTensors(LoadBytes(BuildZip(a.Spec())));
}

TEST(TorchPthSynthetic, StemTopFolderWithProtocol4Opcodes) {
  Archive a;
  a.top = "weights";
  a.protocol = 4;
  ExpectArchiveTensors(LoadBytes(BuildZip(a.Spec()), "weights.pth"));
}

TEST(TorchPthSynthetic, Zip64RecordsAndComment) {
  Archive a;
  a.zip64 = true;
  ZipSpec spec = a.Spec();
  spec.comment = "PK\x05\x06 a comment that looks like an end record";
  ExpectArchiveTensors(LoadBytes(BuildZip(spec)));
}

TEST(TorchPthSynthetic, MisalignedDataIsCopiedToAlignedMemory) {
  Archive a;
  ZipSpec spec = a.Spec();
  spec.entries.insert(spec.entries.begin(), {"archive/pad", "x"});  // shifts all data by 1+
  auto store = LoadBytes(BuildZip(spec));
  ExpectArchiveTensors(store);
  for (const TensorView& t : store->tensors()) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 4, 0u) << t.name;
  }
}

void ExpectError(const Result<TensorStore>& r, const std::string& needle) {
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find(needle), std::string::npos) << r.message();
  EXPECT_EQ(r.message().rfind("[torch_pth]", 0), 0u) << r.message();
}

TEST(TorchPthErrors, BigEndianRefused) {
  Archive a;
  a.extra = {{"byteorder", "big"}};
  ExpectError(LoadBytes(BuildZip(a.Spec())), "big-endian");
}

TEST(TorchPthErrors, HostileGlobalsRefusedByName) {
  for (const auto& [module, name] : {std::pair{"os", "system"}, std::pair{"builtins", "eval"},
                                     std::pair{"torch.storage", "_load_from_bytes"},
                                     std::pair{"torch", "load"}}) {
    for (int protocol : {2, 4}) {
      std::string pkl = "\x80\x02";
      pkl[1] = static_cast<char>(protocol);
      if (protocol == 2) {
        pkl += std::string("c") + module + "\n" + name + "\n";
      } else {
        pkl += "\x8c";
        pkl += static_cast<char>(std::strlen(module));
        pkl += module;
        pkl += "\x8c";
        pkl += static_cast<char>(std::strlen(name));
        pkl += name;
        pkl += "\x93";
      }
      const char kTail[] = "X\x02\x00\x00\x00ls\x85R.";  // ("ls",) REDUCE STOP
      pkl.append(kTail, sizeof(kTail) - 1);
      ZipSpec spec;
      spec.entries = {{"model/data.pkl", pkl}};
      const std::string full = std::string(module) + "." + name;
      ExpectError(LoadBytes(BuildZip(spec)), "refusing pickle global '" + full + "' in ");
    }
  }
}

TEST(TorchPthErrors, CorruptArchives) {
  Archive a;
  const std::string good = BuildZip(a.Spec());
  ExpectError(LoadBytes(good.substr(0, good.size() - 10)), "zip");
  ExpectError(LoadBytes(good.substr(0, good.size() / 2)), "zip");
  ExpectError(LoadBytes(""), "too short");
  ExpectError(LoadBytes(std::string(4096, 'x')), "not a zip");

  ZipSpec compressed = a.Spec();
  compressed.entries[1].method = 8;
  ExpectError(LoadBytes(BuildZip(compressed)), "compressed");

  ZipSpec no_pickle = a.Spec();
  no_pickle.entries.erase(no_pickle.entries.begin());
  ExpectError(LoadBytes(BuildZip(no_pickle)), "no data.pkl");

  ZipSpec truncated_pickle = a.Spec();
  truncated_pickle.entries[0].data.resize(truncated_pickle.entries[0].data.size() / 2);
  ExpectError(LoadBytes(BuildZip(truncated_pickle)), "truncated");

  ExpectError(LoadTorchPth(TestDir() + "/does-not-exist.pth"), "cannot open");
}

TEST(TorchPthErrors, BadTensors) {
  {
    Archive a;
    a.tensors[0].shape = {2, 4};  // 8 elements in a 6-element storage
    ExpectError(LoadBytes(BuildZip(a.Spec())), "exceed storage");
  }
  {
    Archive a;
    a.tensors[1].offset = 2;  // 2 + 3 > 4
    ExpectError(LoadBytes(BuildZip(a.Spec())), "exceed storage");
  }
  {
    Archive a;
    a.tensors[0].shape = {3, 2};
    a.tensors[0].stride = {1, 3};  // a transpose
    ExpectError(LoadBytes(BuildZip(a.Spec())), "non-contiguous");
  }
  {
    Archive a;
    a.tensors[0].key = "7";
    ExpectError(LoadBytes(BuildZip(a.Spec())), "missing from archive");
  }
  {
    Archive a;
    a.tensors[0].storage_class = "DoubleStorage";
    ExpectError(LoadBytes(BuildZip(a.Spec())), "unsupported storage type torch.DoubleStorage");
  }
  {
    Archive a;
    a.tensors[0].shape = {1 << 30, 1 << 30, 1 << 30};  // numel overflows
    ExpectError(LoadBytes(BuildZip(a.Spec())), "invalid shape");
  }
}

}  // namespace
}  // namespace anser

namespace anser {
namespace {

// Whether the page holding `p` is in this process's page table (/proc/self/pagemap bit 63).
bool PagePresent(const void* p) {
  static const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  uint64_t entry = 0;
  const auto offset = static_cast<off_t>(reinterpret_cast<uintptr_t>(p) / page * 8);
  EXPECT_EQ(::pread(fd, &entry, 8, offset), 8) << "cannot read /proc/self/pagemap";
  ::close(fd);
  return (entry >> 63) != 0;
}

// A tensor copied elsewhere gives its file pages back; its view still reads the file's bytes,
// and a store that owns its bytes (no file) keeps them.
TEST(TorchPthPages, DropFilePagesReleasesMappedPagesOnly) {
  std::vector<float> values(1 << 16);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f - 7.0f;
  const std::vector<TensorView> tensors = {
      {"big", DType::kF32, {256, 256}, values.data()}};
  const std::string path = TestDir() + "/pages.pth";
  ASSERT_TRUE(SaveTorchPth(path, tensors).ok());

  auto mapped = LoadTorchPth(path);
  ASSERT_TRUE(mapped.ok()) << mapped.message();
  const TensorView& view = *mapped->Find("big");
  const auto* data = static_cast<const float*>(view.data);
  ASSERT_EQ(std::memcmp(data, values.data(), view.nbytes()), 0);  // every page read in
  const float* middle = data + values.size() / 2;
  ASSERT_TRUE(PagePresent(middle));
  mapped->DropFilePages(view);
  EXPECT_FALSE(PagePresent(middle));
  EXPECT_EQ(std::memcmp(data, values.data(), view.nbytes()), 0);
  EXPECT_TRUE(PagePresent(middle));

  auto owned = LoadTorchPthBytes(std::make_shared<const std::string>(ReadBytes(path)), "pages.pth");
  ASSERT_TRUE(owned.ok()) << owned.message();
  const TensorView& copy = *owned->Find("big");
  owned->DropFilePages(copy);
  EXPECT_EQ(std::memcmp(copy.data, values.data(), copy.nbytes()), 0);
}

}  // namespace
}  // namespace anser
