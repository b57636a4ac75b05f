// The rwkv7 GGUF mapping against the fixtures: every fixture model written as GGUF and read
// back gives bit-identical logits; the layout is what llama.cpp's loader expects; the World
// vocabulary is embedded as llama.cpp's converter embeds it; .pth ↔ Hugging Face round trips.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "../kernels/test_util.h"
#include "../model/fixtures.h"
#include "anser/model.h"
#include "anser/tokenizer.h"
#include "io/formats.h"
#include "model/convert.h"
#include "model/weights.h"
#include "tokenizer/gguf_vocab_reader.h"
#include "test_files.h"

namespace anser {
namespace {

using testing::Fixture;
using testing::ReadFixture;

std::string TempPath(const std::string& name) { return testing::ScratchPath(name); }

std::shared_ptr<const Model> MustLoad(const std::string& path) {
  auto m = Model::Load(path);
  EXPECT_TRUE(m.ok()) << m.message();
  return m.ok() ? *m : nullptr;
}

std::vector<float> AllLogits(const std::shared_ptr<const Model>& model, const std::vector<int>& tokens) {
  Session session(model, {1});
  State state(model->config());
  std::vector<float> logits;
  session.Prefill(state, tokens, true, &logits);
  return logits;
}

void ExpectSameLogits(const std::string& original, const std::string& converted) {
  SCOPED_TRACE(original + " vs " + converted);
  const auto a = MustLoad(original);
  const auto b = MustLoad(converted);
  ASSERT_TRUE(a && b);
  std::vector<int> tokens;
  for (int i = 0; i < 40; ++i) tokens.push_back((i * 7919 + 13) % a->config().n_vocab);
  const std::vector<float> la = AllLogits(a, tokens), lb = AllLogits(b, tokens);
  ASSERT_EQ(la.size(), lb.size());
  EXPECT_EQ(std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)), 0);
}

struct FixtureModel {
  const char* folder;
  const char* file;
};
constexpr FixtureModel kFixtures[] = {
    {"tiny-rwkv7-834K", "model.fp32.pth"},
    {"rand-rwkv7-L3-D128-world", "model.bf16.pth"},
    {"rand-rwkv7-L2-D128-fp32", "model.fp32.pth"},
};

std::string FixturePath(const FixtureModel& f) {
  return testing::SharedDir() + "/fixtures/" + f.folder + "/" + f.file;
}

TEST(GgufModel, F32GgufGivesBitIdenticalLogits) {
  for (const FixtureModel& f : kFixtures) {
    const auto model = MustLoad(FixturePath(f));
    ASSERT_TRUE(model);
    ConvertOptions options;
    options.dtype = DType::kF32;
    const std::string out = TempPath(std::string(f.folder) + ".f32.gguf");
    const Status s = SaveModel(*model, out, options);
    ASSERT_TRUE(s.ok()) << s.message();
    ExpectSameLogits(FixturePath(f), out);
    // And back to .pth: the official tensors again, bit for bit.
    const auto gguf = MustLoad(out);
    const std::string pth = TempPath(std::string(f.folder) + ".back.pth");
    ASSERT_TRUE(SaveModel(*gguf, pth, options).ok());
    ExpectSameLogits(FixturePath(f), pth);
  }
}

// Every checkpoint of every fixture case, converted keeping its stored types, meets the
// fixture tolerance (f32, f16 and bf16 files).
TEST(GgufModel, KeptTypesMeetFixtureTolerance) {
  for (const char* folder : {"tiny-rwkv7-834K", "rand-rwkv7-L3-D128-world", "rand-rwkv7-L2-D128-fp32"}) {
    const Fixture fx = ReadFixture(folder);
    for (const auto& c : fx.cases) {
      SCOPED_TRACE(std::string(folder) + "/" + c.name + " " + c.model);
      const std::string out = TempPath(std::string(folder) + "." + c.model + ".gguf");
      if (!std::filesystem::exists(out)) {
        const auto model = MustLoad(fx.dir + "/" + c.model);
        ASSERT_TRUE(model);
        ASSERT_TRUE(SaveModel(*model, out, {}).ok());
      }
      const auto gguf = MustLoad(out);
      ASSERT_TRUE(gguf);
      const std::vector<float> logits = AllLogits(gguf, c.tokens);
      for (size_t i = 0; i < c.positions.size(); ++i) {
        const std::string diff = testing::CompareRow(&logits[static_cast<size_t>(c.positions[i]) * fx.vocab],
                                                     &c.logits[i * static_cast<size_t>(fx.vocab)], fx.vocab);
        EXPECT_TRUE(diff.empty()) << "position " << c.positions[i] << ": " << diff;
      }
    }
  }
}

TEST(GgufModel, LayoutIsLlamaCppRwkv7) {
  const std::string world = testing::SharedDir() + "/fixtures/rand-rwkv7-L3-D128-world/model.bf16.pth";
  const auto model = MustLoad(world);
  ASSERT_TRUE(model);
  auto vocab = LoadWorldTokenizer(testing::SharedDir() + "/vocab/rwkv_vocab_v20230424.txt");
  ASSERT_TRUE(vocab.ok()) << vocab.message();
  ConvertOptions options;
  options.tokenizer = vocab->get();
  const std::string out = TempPath("world.gguf");
  ASSERT_TRUE(SaveModel(*model, out, options).ok());
  auto file = LoadGguf(out);
  ASSERT_TRUE(file.ok()) << file.message();
  const ModelConfig& c = model->config();
  const int64_t C = c.n_embd;

  const GgufMetadata& m = file->metadata;
  auto u = [&](const char* key) {
    const GgufValue* v = m.Find(key);
    EXPECT_NE(v, nullptr) << key;
    EXPECT_TRUE(v == nullptr || v->type == GgufType::kU32) << key;
    return v ? static_cast<int64_t>(v->u) : -1;
  };
  EXPECT_EQ(m.Find("general.architecture")->s, "rwkv7");
  EXPECT_EQ(u("rwkv7.embedding_length"), C);
  EXPECT_EQ(u("rwkv7.block_count"), c.n_layer);
  EXPECT_EQ(u("rwkv7.feed_forward_length"), c.n_ffn);
  EXPECT_EQ(u("rwkv7.wkv.head_size"), c.head_size);
  EXPECT_EQ(u("rwkv7.attention.decay_lora_rank"), c.lora_ranks.w);
  EXPECT_EQ(u("rwkv7.attention.iclr_lora_rank"), c.lora_ranks.a);
  EXPECT_EQ(u("rwkv7.attention.value_residual_mix_lora_rank"), c.lora_ranks.v);
  EXPECT_EQ(u("rwkv7.attention.gate_lora_rank"), c.lora_ranks.g);
  EXPECT_EQ(u("rwkv7.context_length"), 1048576);
  EXPECT_EQ(u("rwkv7.attention.head_count"), 0);
  EXPECT_EQ(u("general.file_type"), 32);  // mostly bf16
  EXPECT_FLOAT_EQ(static_cast<float>(m.Find("rwkv7.attention.layer_norm_epsilon")->f), 1e-5f);

  // Shapes in PyTorch order (GGUF ne reversed), as llama.cpp's create_tensor calls ask.
  auto shape = [&](const std::string& name) {
    const TensorView* t = file->tensors.Find(name);
    EXPECT_NE(t, nullptr) << name;
    return t ? t->shape : std::vector<int64_t>{};
  };
  using S = std::vector<int64_t>;
  EXPECT_EQ(shape("token_embd.weight"), (S{c.n_vocab, C}));
  EXPECT_EQ(shape("token_embd_norm.weight"), (S{C}));
  EXPECT_EQ(shape("output.weight"), (S{c.n_vocab, C}));
  EXPECT_EQ(shape("output_norm.bias"), (S{C}));
  EXPECT_EQ(shape("blk.1.time_mix_lerp_fused.weight"), (S{6, 1, 1, C}));
  EXPECT_EQ(shape("blk.1.time_mix_w1.weight"), (S{c.lora_ranks.w, C}));
  EXPECT_EQ(shape("blk.1.time_mix_w2.weight"), (S{C, c.lora_ranks.w}));
  EXPECT_EQ(shape("blk.1.time_mix_v1.weight"), (S{c.lora_ranks.v, C}));
  EXPECT_EQ(shape("blk.0.time_mix_v1.weight"), (S{c.lora_ranks.a, C}));
  EXPECT_EQ(shape("blk.0.time_mix_v2.weight"), (S{C, c.lora_ranks.a}));
  EXPECT_EQ(shape("blk.1.time_mix_r_k.weight"), (S{C}));
  EXPECT_EQ(shape("blk.1.channel_mix_key.weight"), (S{c.n_ffn, C}));
  EXPECT_EQ(shape("blk.1.channel_mix_value.weight"), (S{C, c.n_ffn}));
  EXPECT_EQ(shape("blk.2.attn_norm_2.weight"), (S{C}));
  EXPECT_EQ(file->tensors.tensors().size(), 6 + 28 * static_cast<size_t>(c.n_layer));
  for (const TensorView& t : file->tensors.tensors()) {
    if (t.shape.size() == 1 || t.name.find("lerp_fused") != std::string::npos) {
      EXPECT_EQ(t.dtype, DType::kF32) << t.name;  // llama.cpp's graph multiplies f32 vectors
    }
  }
  // Layer 0's placeholders are the a LoRA, as llama.cpp's converter writes them.
  const TensorView* v1 = file->tensors.Find("blk.0.time_mix_v1.weight");
  const TensorView* a1 = file->tensors.Find("blk.0.time_mix_a1.weight");
  ASSERT_TRUE(v1 && a1);
  EXPECT_EQ(std::memcmp(v1->data, a1->data, a1->nbytes()), 0);

  // The lerps fused in the order r, w, k, v, a, g.
  const TensorView* fused = file->tensors.Find("blk.1.time_mix_lerp_fused.weight");
  const TensorView* x_k = model->weights().store().Find("blocks.1.att.x_k");
  ASSERT_TRUE(fused && x_k && x_k->dtype == DType::kBF16);
  const auto* f = static_cast<const float*>(fused->data);
  const auto* k = static_cast<const uint16_t*>(x_k->data);
  for (int64_t i = 0; i < C; ++i) ASSERT_EQ(f[2 * C + i], Bf16ToF32(k[i])) << i;

  // The vocabulary.
  EXPECT_EQ(m.Find("tokenizer.ggml.model")->s, "rwkv");
  const GgufValue* tokens = m.Find("tokenizer.ggml.tokens");
  const GgufValue* types = m.Find("tokenizer.ggml.token_type");
  ASSERT_TRUE(tokens && types);
  ASSERT_EQ(tokens->items.size(), 65536u);
  ASSERT_EQ(types->items.size(), 65536u);
  EXPECT_EQ(tokens->items[0].s, "<s>");
  EXPECT_EQ(types->items[0].i, 3);
  EXPECT_EQ(tokens->items[65535].s, "[PAD65535]");
  EXPECT_EQ(types->items[65535].i, 5);
  EXPECT_EQ(tokens->items[261].s, "\\n\\n");
  EXPECT_EQ(tokens->items[40].s, "'");       // repr(b"'") is b"'": nothing escaped
  EXPECT_EQ(tokens->items[93].s, "\\\\");    // a backslash
  EXPECT_EQ(tokens->items[1].s, "\\x00");
  for (int id = 1; id < (*vocab)->vocab_size(); ++id) {
    if ((*vocab)->TokenBytes(id).empty()) continue;
    ASSERT_EQ(UnescapeRwkvToken(tokens->items[static_cast<size_t>(id)].s), (*vocab)->TokenBytes(id)) << id;
    ASSERT_EQ(types->items[static_cast<size_t>(id)].i, 1) << id;
  }
  EXPECT_EQ(m.Find("tokenizer.ggml.eos_token_id")->u, 0u);
  EXPECT_EQ(m.Find("tokenizer.ggml.eot_token_id")->u, 261u);

  // With no vocabulary file around, the GGUF file's own vocabulary is the model's tokenizer.
  ::unsetenv("ANSER_VOCAB");
  auto embedded = TokenizerForModel(out, c.n_vocab, "");
  ASSERT_TRUE(embedded.ok()) << embedded.message();
  for (int id = 1; id < (*vocab)->vocab_size(); ++id) {
    ASSERT_EQ((*embedded)->TokenBytes(id), (*vocab)->TokenBytes(id)) << id;
  }
  const std::string text = "Geese \xf0\x9f\xaa\xbf fly south, \xff invalid bytes too.\n\nUser:";
  EXPECT_EQ((*embedded)->Encode(text), (*vocab)->Encode(text));
}

TEST(GgufModel, EscapeFollowsPythonRepr) {
  EXPECT_EQ(EscapeRwkvToken("a'b"), "a'b");          // repr chooses "…"
  EXPECT_EQ(EscapeRwkvToken("a'\"b"), "a\\'\"b");    // both quotes: '…' with \'
  EXPECT_EQ(EscapeRwkvToken("\"x"), "\"x");
  EXPECT_EQ(EscapeRwkvToken("\t\r\x7f\xff "), "\\t\\r\\x7f\\xff ");
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    EXPECT_EQ(UnescapeRwkvToken(EscapeRwkvToken(s)), s) << b;
  }
}

TEST(GgufModel, HfFolderRoundTrip) {
  for (const FixtureModel& f : kFixtures) {
    const auto model = MustLoad(FixturePath(f));
    ASSERT_TRUE(model);
    const std::string folder = TempPath(std::string(f.folder) + "_hf");
    ASSERT_TRUE(SaveModel(*model, folder, {}).ok());
    const auto hf = MustLoad(folder);
    ASSERT_TRUE(hf);
    const std::string pth = TempPath(std::string(f.folder) + "_hf.pth");
    ASSERT_TRUE(SaveModel(*hf, pth, {}).ok());
    const auto back = MustLoad(pth);
    ASSERT_TRUE(back);
    // Every official tensor comes back with its type, shape and bytes (layer 0's unused
    // v0/v1/v2 have no place in the fla-hub layout).
    const TensorStore& a = model->weights().store();
    const TensorStore& b = back->weights().store();
    for (const TensorView& t : a.tensors()) {
      if (t.name.rfind("blocks.0.att.v", 0) == 0) continue;
      const TensorView* u = b.Find(t.name);
      ASSERT_NE(u, nullptr) << t.name;
      EXPECT_EQ(u->dtype, t.dtype) << t.name;
      EXPECT_EQ(u->numel(), t.numel()) << t.name;
      EXPECT_EQ(std::memcmp(u->data, t.data, t.nbytes()), 0) << t.name;
    }
    ExpectSameLogits(FixturePath(f), pth);
  }
}

TEST(GgufModel, QuantizedTypesAreGgufOnly) {
  const auto model = MustLoad(FixturePath(kFixtures[0]));
  ASSERT_TRUE(model);
  ConvertOptions options;
  options.dtype = DType::kQ8_0;
  const std::string pth = TempPath("q8.pth");
  const Status s = SaveModel(*model, pth, options);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("GGUF only"), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(pth));
  EXPECT_FALSE(SaveModel(*model, TempPath("q8_hf"), options).ok());
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Loaded to run, a block-quantized model's matrices are packed in place for the selected kernels
// (in the file's private mapping): the logits are those of the matrices as stored, read a row at
// a time, and the file never changes.
TEST(GgufModel, PackedBlockWeightsGiveTheStoredLogits) {
  const auto model = MustLoad(FixturePath(kFixtures[1]));
  ASSERT_TRUE(model);
  std::vector<int> tokens;
  for (int i = 0; i < 21; ++i) tokens.push_back((i * 7919 + 13) % model->config().n_vocab);
  for (DType dtype : {DType::kQ8_0, DType::kQ5_0, DType::kQ4_0, DType::kQ4_1}) {
    SCOPED_TRACE(std::string(DTypeName(dtype)));
    ConvertOptions options;
    options.dtype = dtype;
    const std::string out = TempPath(std::string("packed.") + std::string(DTypeName(dtype)) + ".gguf");
    ASSERT_TRUE(SaveModel(*model, out, options).ok());
    const std::string before = FileBytes(out);
    std::vector<float> packed_logits, stored_logits;
    {
      auto packed = Model::Load(out);
      auto stored = Model::Load(out, WeightLayout::kStored);
      ASSERT_TRUE(packed.ok() && stored.ok());
      EXPECT_EQ((*packed)->weights().packed(), std::string(SelectKernels().name) != "ref");
      EXPECT_FALSE((*stored)->weights().packed());
      packed_logits = AllLogits(*packed, tokens);
      stored_logits = AllLogits(*stored, tokens);
    }
    ASSERT_EQ(packed_logits.size(), stored_logits.size());
    // Both quantize the same activations to 8 bits and differ only in the order of float sums
    // (about 1e-7 of the logits), until such a difference flips one activation's rounding: on
    // this random model that moves every later position's logits by about 1 %. A matrix packed
    // wrongly, or not at all, moves them by their own size.
    EXPECT_LE(testing::RelL2(packed_logits.data(), stored_logits.data(), static_cast<int64_t>(packed_logits.size())),
              5e-2);
    EXPECT_EQ(FileBytes(out), before);
  }
}

TEST(GgufModel, OtherArchitecturesAreNamed) {
  GgufMetadata m;
  m.Set("general.architecture", GgufValue::String("arwkv7"));
  const std::string path = TempPath("arwkv7.gguf");
  ASSERT_TRUE(SaveGguf(path, m, {}).ok());
  auto model = Model::Load(path);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.message().find("'arwkv7'"), std::string::npos) << model.message();
}

}  // namespace
}  // namespace anser
