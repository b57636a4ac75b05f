// Seeded generations under grammars with the fixture models, which write noise when free: per
// grammar, 200 generations at temperature 1, top-p 1. At least 90 % must end with the grammar
// complete ("stop"), every one of those must satisfy the independent validator, and every output
// cut by the length limit must be a prefix the grammar accepts. Release builds only (label
// "sweep"): a few hundred thousand sampled tokens.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "anser/grammar.h"
#include "anser/model.h"
#include "anser/sampler.h"
#include "anser/tokenizer.h"
#include "grammar_test_util.h"
#include "independent_validator.h"

namespace anser {
namespace {

constexpr int kGenerations = 200;

struct SweepGrammar {
  const char* name;
  std::string text;      // a JSON Schema, or GBNF when `language` is set
  std::string language;  // the validator's parser for a GBNF grammar
};

const std::vector<SweepGrammar>& Grammars() {
  static const std::vector<SweepGrammar> kGrammars = {
      {"nested_objects",
       R"({"type":"object","properties":{"user":{"type":"object","properties":{
           "id":{"type":"integer","minimum":1,"maximum":9999},"active":{"type":"boolean"}},
           "required":["id","active"],"additionalProperties":false},"score":{"type":"number"}},
           "required":["user"],"additionalProperties":false})",
       ""},
      {"array_with_bounds",
       R"({"type":"array","items":{"type":"integer","minimum":0,"maximum":99},"minItems":1,"maxItems":5})",
       ""},
      {"enums",
       R"({"type":"object","properties":{"color":{"enum":["red","green","blue"]},
           "size":{"enum":["S","M","L",null]}},"required":["color","size"],"additionalProperties":false})",
       ""},
      {"recursive_tree",
       R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer","minimum":0,"maximum":9},
           "kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["v"],
           "additionalProperties":false}},"$ref":"#/$defs/node"})",
       ""},
      {"linked_list",
       R"({"definitions":{"list":{"anyOf":[{"type":"null"},{"type":"object","properties":{
           "head":{"type":"boolean"},"tail":{"$ref":"#/definitions/list"}},"required":["head","tail"],
           "additionalProperties":false}]}},"$ref":"#/definitions/list"})",
       ""},
      {"any_of",
       R"({"anyOf":[{"type":"integer","minimum":0,"maximum":100},{"type":"string","maxLength":5},
           {"type":"null"},{"type":"boolean"}]})",
       ""},
      {"patterns",
       R"({"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2,4}$"},
           "phone":{"type":"string","pattern":"^\\+?[0-9]{7,10}$"}},"required":["code","phone"],
           "additionalProperties":false})",
       ""},
      {"formats",
       R"({"type":"object","properties":{"when":{"type":"string","format":"date-time"},
           "id":{"type":"string","format":"uuid"}},"required":["when","id"],"additionalProperties":false})",
       ""},
      {"tuple",
       R"({"type":"array","prefixItems":[{"type":"string","maxLength":4},{"type":"integer"},
           {"type":"boolean"}],"items":false,"minItems":3})",
       ""},
      {"one_of_shapes",
       R"({"oneOf":[{"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"integer","minimum":1,"maximum":50}},
           "required":["kind","r"],"additionalProperties":false},
           {"type":"object","properties":{"kind":{"const":"square"},"side":{"type":"integer","minimum":1,"maximum":50}},
           "required":["kind","side"],"additionalProperties":false}]})",
       ""},
      {"tool_arguments",
       R"({"type":"object","properties":{"city":{"type":"string","maxLength":12},
           "unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},
           "required":["city","unit"],"additionalProperties":false})",
       ""},
      {"arithmetic", R"G(root ::= expr
expr ::= term (("+" | "-") term){0,3}
term ::= factor (("*" | "/") factor){0,2}
factor ::= [0-9]{1,3} | "(" expr ")")G",
       "arithmetic"},
      {"csv_line", R"(root ::= name "," count "," price "\n"
name ::= [A-Za-z ]{1,12} | "\"" ( [^"\n] | "\"\"" ){0,12} "\""
count ::= "-"? [0-9]{1,4}
price ::= [0-9]{1,4} "." [0-9]{2})",
       "csv"},
      {"date",
       R"(root ::= year "-" ( ( "01" | "03" | "05" | "07" | "08" | "10" | "12" ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ) | ( "04" | "06" | "09" | "11" ) "-" ( "0" [1-9] | [12] [0-9] | "30" ) | "02-" ( "0" [1-9] | "1" [0-9] | "2" [0-8] ) ) | leap "-02-29"
year ::= [1-9] [0-9]{3}
leap ::= [0-9]{2} ( "0" [48] | [2468] [048] | [13579] [26] ) | ( "0" [48] | [2468] [048] | [13579] [26] ) "00")",
       "date"},
  };
  return kGrammars;
}

struct SweepResult {
  std::vector<std::string> complete;  // outputs that ended with the grammar complete
  std::vector<std::string> cut;       // outputs cut by the length limit
};

// kGenerations seeded generations from one prompt, advanced together with StepBatch.
SweepResult Sweep(const std::shared_ptr<const Model>& model, const Tokenizer& tokenizer,
                  const std::shared_ptr<const CompiledGrammar>& grammar, int max_tokens) {
  const int n_vocab = model->config().n_vocab;
  Session session(model, SessionOptions{1});
  std::vector<float> prompt_logits;
  State prompt_state(model->config());
  session.Prefill(prompt_state, tokenizer.Encode("User: Reply in the format asked.\n\nAssistant:"),
                  /*all_positions=*/false, &prompt_logits);
  SamplerOptions options;
  options.temperature = 1.0f;
  options.top_p = 1.0f;
  std::vector<State> states(kGenerations, prompt_state);
  std::vector<Sampler> samplers;
  std::vector<GrammarMatcher> matchers;
  std::vector<std::vector<float>> logits(kGenerations, prompt_logits);
  std::vector<std::string> text(kGenerations);
  for (int g = 0; g < kGenerations; ++g) {
    options.seed = 1000 + static_cast<uint64_t>(g);
    samplers.emplace_back(n_vocab, options);
    matchers.emplace_back(grammar);
  }
  std::vector<bool> done(kGenerations, false);
  SweepResult result;
  TokenMask mask;
  std::vector<float> batch_logits;
  for (int step = 0; step < max_tokens; ++step) {
    std::vector<State*> batch_states;
    std::vector<int> batch_tokens, batch_index;
    for (int g = 0; g < kGenerations; ++g) {
      if (done[g]) continue;
      if (matchers[g].IsComplete()) {
        done[g] = true;
        result.complete.push_back(text[g]);
        continue;
      }
      const int token = SampleWithGrammar(samplers[g], matchers[g], &mask, logits[g]);
      EXPECT_GE(token, 0) << "no allowed token after \"" << text[g] << "\"";
      if (token <= 0) {
        done[g] = true;
        if (token == 0) result.complete.push_back(text[g]);
        continue;
      }
      text[g] += tokenizer.TokenBytes(token);
      batch_states.push_back(&states[g]);
      batch_tokens.push_back(token);
      batch_index.push_back(g);
    }
    if (batch_states.empty()) break;
    session.StepBatch(batch_states, batch_tokens, &batch_logits);
    for (size_t b = 0; b < batch_index.size(); ++b) {
      logits[batch_index[b]].assign(
          batch_logits.begin() + static_cast<std::ptrdiff_t>(b * n_vocab),
          batch_logits.begin() + static_cast<std::ptrdiff_t>((b + 1) * n_vocab));
    }
  }
  for (int g = 0; g < kGenerations; ++g) {
    if (done[g]) continue;
    if (matchers[g].IsComplete()) {
      result.complete.push_back(text[g]);
    } else {
      result.cut.push_back(text[g]);
    }
  }
  return result;
}

void RunSweep(const std::string& model_file, int n_vocab, int max_tokens) {
  auto model = Model::Load(std::string(ANSER_SHARED_DIR) + "/fixtures/" + model_file);
  ASSERT_TRUE(model.ok()) << model.message();
  auto tokenizer = TokenizerForModel(
      "", n_vocab, std::string(ANSER_SHARED_DIR) + "/vocab/rwkv_vocab_v20230424.txt");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.message();
  auto vocabulary = GrammarVocabulary::FromTokenizer(**tokenizer, n_vocab);
  std::vector<testing::ValidationCase> requests;
  for (const SweepGrammar& g : Grammars()) {
    auto grammar = g.language.empty() ? CompiledGrammar::FromJsonSchema(g.text, vocabulary)
                                      : CompiledGrammar::FromGbnf(g.text, vocabulary);
    ASSERT_TRUE(grammar.ok()) << g.name << ": " << grammar.message();
    const SweepResult result = Sweep(*model, **tokenizer, *grammar, max_tokens);
    EXPECT_GE(result.complete.size(), kGenerations * 9 / 10)
        << g.name << ": " << result.cut.size() << " of " << kGenerations
        << " cut by the length limit, e.g. " << (result.cut.empty() ? "" : result.cut[0]);
    for (const std::string& cut : result.cut) {
      EXPECT_TRUE(testing::IsPrefix(*grammar, cut)) << g.name << ": " << cut;
    }
    testing::ValidationCase request;
    request.schema = g.language.empty() ? nlohmann::json::parse(g.text) : nlohmann::json();
    request.language = g.language;
    request.documents = result.complete;
    requests.push_back(std::move(request));
  }
  const auto verdicts = testing::Validate(requests);
  for (size_t k = 0; k < requests.size(); ++k) {
    int invalid = 0;
    for (size_t d = 0; d < requests[k].documents.size(); ++d) {
      if (verdicts[k][d]) continue;
      if (++invalid <= 3) {
        ADD_FAILURE() << Grammars()[k].name << ": invalid output " << requests[k].documents[d];
      }
    }
    EXPECT_EQ(invalid, 0) << Grammars()[k].name;
  }
}

TEST(GrammarSweepTest, WorldVocabularyRandomModel) {
  RunSweep("rand-rwkv7-L3-D128-world/model.bf16.pth", 65536, /*max_tokens=*/256);
}

// One token per byte: a longer limit for the same documents.
TEST(GrammarSweepTest, ByteLevelTinyModel) {
  RunSweep("tiny-rwkv7-834K/model.fp32.pth", 256, /*max_tokens=*/480);
}

}  // namespace
}  // namespace anser
