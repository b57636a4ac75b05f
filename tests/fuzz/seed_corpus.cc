// fuzz_seed_corpus OUT_DIR: writes the seed corpus of every fuzz target into OUT_DIR/<target>/,
// made at test time from the fixtures (tokenizer texts, a training batch, the vocabulary) and
// from small files the library writes (tiny random models in every format and stored type,
// state files), so no binary seed is committed.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "anser/model.h"
#include "io/formats.h"
#include "io/zip_reader.h"
#include "model/convert.h"

namespace anser {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Status Check(const Status& s, const std::string& what) {
  if (!s.ok()) return Status::Error("fuzz seeds: " + what + ": " + s.message());
  return s;
}

// The smallest shape every format stores: one 32-wide head, rows of 32 for the block types.
ModelConfig TinyConfig(int n_vocab) {
  ModelConfig c;
  c.n_layer = 1, c.n_embd = 32, c.n_head = 1, c.head_size = 32, c.n_ffn = 64, c.n_vocab = n_vocab;
  c.lora_ranks = {4, 4, 4, 4};
  return c;
}

Status ModelSeeds(const fs::path& out, const fs::path& scratch) {
  for (const char* dtype : {"f32", "bf16", "f16"}) {
    ANSER_ASSIGN_OR_RETURN(auto model,
                           Model::Random(TinyConfig(32), dtype, 1, WeightLayout::kStored));
    const fs::path pth = out / "pth" / (std::string("tiny_") + dtype + ".pth");
    fs::create_directories(pth.parent_path());
    ANSER_RETURN_IF_ERROR(Check(SaveModel(*model, pth.string(), {}), "pth"));
    const fs::path hf = scratch / (std::string("hf_") + dtype);
    ANSER_RETURN_IF_ERROR(Check(SaveModel(*model, hf.string(), {}), "hf folder"));
    WriteFile(out / "safetensors" / (std::string("tiny_") + dtype + ".safetensors"),
              ReadFile(hf / "model.safetensors"));
  }
  ANSER_ASSIGN_OR_RETURN(auto f32, Model::Random(TinyConfig(256), "f32", 2, WeightLayout::kStored));
  for (const char* dtype : {"f32", "q8_0", "q4_0", "q4_1", "q5_0"}) {
    ConvertOptions options;
    options.dtype = ParseConvertDType(dtype);
    const fs::path gguf = out / "gguf" / (std::string("tiny_") + dtype + ".gguf");
    fs::create_directories(gguf.parent_path());
    ANSER_RETURN_IF_ERROR(Check(SaveModel(*f32, gguf.string(), options), "gguf"));
  }
  return Status::Ok();
}

// The .pth seeds whole for the zip target, and their data.pkl entries for the unpickler.
Status ArchiveSeeds(const fs::path& out) {
  for (const auto& entry : fs::directory_iterator(out / "pth")) {
    const std::string bytes = ReadFile(entry.path());
    WriteFile(out / "zip" / entry.path().filename(), bytes);
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    ANSER_ASSIGN_OR_RETURN(const std::vector<ZipEntry> entries,
                           ReadZipDirectory(data, bytes.size()));
    for (const ZipEntry& e : entries) {
      if (e.name.size() < 8 || e.name.substr(e.name.size() - 8) != "data.pkl") continue;
      WriteFile(out / "unpickle" / (entry.path().stem().string() + ".pkl"),
                bytes.substr(static_cast<size_t>(e.data_offset), static_cast<size_t>(e.size)));
    }
  }
  return Status::Ok();
}

Status StateSeeds(const fs::path& out) {
  ModelConfig c;  // the shapes the state_file target loads for
  c.n_layer = 2, c.n_embd = 64, c.n_head = 2, c.head_size = 32, c.n_ffn = 128, c.n_vocab = 256;
  State state(c);
  for (int l = 0; l < c.n_layer; ++l) state.att_shift(l)[l] = 1.5f;
  fs::create_directories(out / "state_file");
  ANSER_RETURN_IF_ERROR(Check(state.Save((out / "state_file" / "state.pth").string()), "state"));
  State other(TinyConfig(32));  // a state of another shape
  return Check(other.Save((out / "state_file" / "other_shape.pth").string()), "state");
}

Status FixtureSeeds(const fs::path& out, const fs::path& shared) {
  const fs::path fixtures = shared / "fixtures";
  const nlohmann::json cases =
      nlohmann::json::parse(ReadFile(fixtures / "tokenizer" / "world_cases.json"));
  int i = 0;
  for (const auto& c : cases.at("cases")) {
    WriteFile(out / "tokenizer" / ("case_" + std::to_string(i++)), c.at("text").get<std::string>());
  }
  const nlohmann::json batch =
      nlohmann::json::parse(ReadFile(fixtures / "train-grad-tiny" / "case.json"));
  WriteFile(out / "train_batch" / "fixture_case.json", batch.dump());
  WriteFile(out / "train_batch" / "small.json",
            R"({"inputs": [[1, 2, 3], [4, 5, 6]], "targets": [[2, 3, 4], [5, 6, 7]]})");
  // The single bytes (which every vocabulary needs) and the first few hundred longer tokens.
  std::istringstream vocab(ReadFile(shared / "vocab" / "rwkv_vocab_v20230424.txt"));
  std::string line, text;
  for (int n = 0; std::getline(vocab, line) && n < 600; ++n) text += line + "\n";
  WriteFile(out / "world_vocab" / "world_head.txt", text);
  return Status::Ok();
}

// Request bodies of every endpoint the server takes; chat messages from the tokenizer fixture.
Status HttpSeeds(const fs::path& out, const fs::path& shared) {
  const nlohmann::json cases =
      nlohmann::json::parse(ReadFile(shared / "fixtures" / "tokenizer" / "world_cases.json"));
  const std::vector<nlohmann::json> bodies = {
      {{"prompt", "The goose"},
       {"max_tokens", 16},
       {"temperature", 0.7},
       {"top_p", 0.9},
       {"stop", {"\n"}}},
      {{"prompt", {1, 2, 3}},
       {"max_tokens", 4},
       {"n", 2},
       {"seed", 7},
       {"logprobs", 2},
       {"logit_bias", {{"10", -100}}}},
      {{"messages",
        {{{"role", "system"}, {"content", "Be brief."}},
         {{"role", "user"}, {"content", cases.at("cases").at(0).at("text")}},
         {{"role", "assistant"}, {"content", "Yes."}},
         {{"role", "user"}, {"content", cases.at("cases").at(1).at("text")}}}},
       {"max_tokens", 32},
       {"stream", true},
       {"stream_options", {{"include_usage", true}}},
       {"top_logprobs", 3},
       {"logprobs", true},
       {"presence_penalty", 0.5},
       {"frequency_penalty", 0.5},
       {"save_state", true}},
      {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
       {"state", "greeting"},
       {"max_tokens", 8}},
      {{"content", cases.at("cases").at(2).at("text")}},
      {{"tokens", {33, 34, 35, 0, 65535}}},
  };
  int i = 0;
  for (const nlohmann::json& body : bodies)
    WriteFile(out / "http_request" / ("body_" + std::to_string(i++) + ".json"), body.dump());
  return Status::Ok();
}

}  // namespace
}  // namespace anser

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_seed_corpus SHARED_DIR OUT_DIR\n");
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path shared = argv[1], out = argv[2];
  const fs::path scratch = out / ".scratch";
  fs::remove_all(out);
  fs::create_directories(scratch);
  anser::Status s = anser::ModelSeeds(out, scratch);
  if (s.ok()) s = anser::ArchiveSeeds(out);
  if (s.ok()) s = anser::StateSeeds(out);
  if (s.ok()) s = anser::FixtureSeeds(out, shared);
  if (s.ok()) s = anser::HttpSeeds(out, shared);
  fs::remove_all(scratch);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
