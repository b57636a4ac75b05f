// anser chat: an interactive chat in the RWKV World format, keeping the recurrent state across
// turns so that history is never fed twice.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common.h"
#include "flag_checks.h"
#include "serve/chat_template.h"
#include "grammar_flags.h"
#include "logits_guard.h"

namespace anser::cli {
namespace {

// A reply ends where the model starts writing the next user turn.
constexpr char kReplyStop[] = "\n\nUser:";

struct ChatArgs {
  std::string model;
  std::string vocab;
  std::string system;
  std::string state_in;
  int max_tokens = 500;
  SamplerOptions sampling = kChatSamplerOptions;
  int threads = 0;
  GrammarFlags grammar;
};

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class Chat {
 public:
  Chat(std::shared_ptr<const Model> model, std::unique_ptr<Tokenizer> tokenizer,
       const ChatArgs& args, std::shared_ptr<const CompiledGrammar> grammar)
      : config_(model->config()),
        tokenizer_(std::move(tokenizer)),
        session_(std::move(model), SessionOptions{args.threads}),
        sampler_(config_.n_vocab, args.sampling),
        max_tokens_(args.max_tokens),
        grammar_(std::move(grammar)) {}

  State& state() { return state_; }
  const ModelConfig& config() const { return config_; }

  void Feed(const std::string& text) {
    const std::vector<int> tokens = tokenizer_->Encode(text);
    if (tokens.empty()) return;
    PrefillWithProgress(session_, state_, tokens, &logits_);
    last_fed_ = tokens.back();
  }

  // Feeds the user's turn, streams the reply to stdout, and leaves the state just after the
  // blank line that ends the reply, ready for the next "User:". An error when the logits stop
  // being finite (the reply is cut there).
  Status Turn(const std::string& message) {
    Feed("User: " + message + "\n\nAssistant:");
    ANSER_RETURN_IF_ERROR(CheckLogits(session_, state_, last_fed_, logits_));
    sampler_.ResetPenalties();  // as ChatRWKV: penalties count this reply's tokens only
    const State reply_start = state_;
    State boundary;  // the state right after the latest "\n\n" of the reply
    size_t boundary_len = std::string::npos;
    // Under a grammar every reply is one sentence of it: the turn ends where the grammar does,
    // and "\n\nUser:" inside it is content, not a stop.
    std::optional<GrammarMatcher> matcher;
    if (grammar_ != nullptr) matcher.emplace(grammar_);
    TextStream stream(matcher ? std::vector<std::string>{} : std::vector<std::string>{kReplyStop});
    std::string reply;
    std::string printed = "Assistant:";
    WriteOut(printed);
    for (int i = 0; i < max_tokens_; ++i) {
      if (matcher && matcher->IsComplete()) break;
      // Token 0 (end of text) never ends a reply: the turn ends with the next "User:", as in the
      // server's chat completions. A grammar decides for itself where the text may end.
      if (!matcher) logits_[0] = -std::numeric_limits<float>::infinity();
      const int token = matcher ? SampleWithGrammar(sampler_, *matcher, &mask_, logits_)
                                : sampler_.Sample(logits_);
      if (token == 0) break;  // end of document
      if (token < 0) {        // the turn ends; the chat goes on
        Fail("the grammar allows no token the model gives a finite logit");
        break;
      }
      sampler_.Accept(token);
      const std::string_view bytes = tokenizer_->TokenBytes(token);
      reply.append(bytes);
      const std::string out = stream.Push(bytes);
      printed += out;
      WriteOut(out);
      const std::span<const float> next = session_.Step(state_, token);
      if (Status s = CheckLogits(session_, state_, token, next); !s.ok()) {
        WriteOut("\n");
        return s;
      }
      logits_.assign(next.begin(), next.end());
      if (EndsWith(reply, "\n\n")) {
        boundary = state_;
        boundary_len = reply.size();
      }
      if (stream.stopped()) break;
    }
    if (stream.stopped()) {
      // Rewind to just after the "\n\n" that opened "User:", so the next turn's "User:" is not
      // seen twice. Usually a snapshot was taken there; when a token straddled that point,
      // replay the reply up to it instead.
      const size_t end = reply.find(kReplyStop) + 2;
      if (boundary_len == end) {
        state_ = std::move(boundary);
      } else {
        state_ = reply_start;
        Feed(reply.substr(0, end));
      }
    } else {
      const std::string rest = stream.Flush();
      printed += rest;
      WriteOut(rest);
      // Ended by the length limit or the grammar: close the turn with the separator the model
      // expects before the next "User:".
      if (!EndsWith(reply, "\n\n")) Feed(EndsWith(reply, "\n") ? "\n" : "\n\n");
    }
    WriteOut(EndsWith(printed, "\n\n") ? "" : EndsWith(printed, "\n") ? "\n" : "\n\n");
    return Status::Ok();
  }

 private:
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  Session session_;
  Sampler sampler_;
  int max_tokens_;
  std::shared_ptr<const CompiledGrammar> grammar_;  // null: free text
  TokenMask mask_;
  State state_;
  std::vector<float> logits_;
  int last_fed_ = 0;  // the last token Feed ran, which gave logits_
};

// Splits "/cmd arg" into the command and its argument (trimmed).
std::pair<std::string, std::string> SplitCommand(const std::string& line) {
  const size_t space = line.find(' ');
  if (space == std::string::npos) return {line, ""};
  return {line.substr(0, space), serve::CleanMessage(line.substr(space + 1))};
}

int RunChat(ChatArgs a, bool seed_given) {
  auto model_path = ModelOrDefault(a.model);
  if (!model_path.ok()) return Fail(model_path.message());
  a.model = *model_path;
  auto model = OpenModel(a.model);
  if (!model.ok()) return Fail(model.message());
  auto tokenizer = OpenTokenizer(a.model, **model, a.vocab);
  if (!tokenizer.ok()) return Fail(tokenizer.message());
  if (*tokenizer == nullptr) {
    return Fail("chat needs a tokenizer, and a model with " +
                std::to_string((*model)->config().n_vocab) +
                " tokens has none: use a World (65536) or byte-level (256) model");
  }
  if (!seed_given) a.sampling.seed = RandomSeed();
  auto grammar = CompileGrammarFlags(a.grammar, tokenizer->get(), (*model)->config().n_vocab);
  if (!grammar.ok()) return Fail(grammar.message());

  Chat chat(*model, std::move(*tokenizer), a, *grammar);
  State initial((*model)->config());
  if (!a.state_in.empty()) {
    auto loaded = State::Load(a.state_in, chat.config());
    if (!loaded.ok()) return Fail(loaded.message());
    initial = std::move(*loaded);
  }
  chat.state() = initial;
  if (const std::string system_text = serve::CleanMessage(a.system); !system_text.empty()) {
    chat.Feed("System: " + system_text + "\n\n");
    initial = chat.state();
  }

  const bool interactive = isatty(STDIN_FILENO) != 0;
  if (interactive) {
    std::fprintf(stderr, "Chatting with %s. Commands: /save FILE, /load FILE, /reset, /quit\n",
                 a.model.c_str());
  }
  std::string line;
  while (true) {
    if (interactive) std::fputs("User: ", stderr);
    if (!std::getline(std::cin, line)) break;
    const std::string message = serve::CleanMessage(line);
    if (message.empty()) continue;
    const auto [command, argument] = SplitCommand(message);
    if (command == "/quit" || command == "/exit") break;
    if (command == "/reset") {
      chat.state() = initial;
      std::fputs("(state reset)\n", stderr);
    } else if (command == "/save" || command == "/load") {
      if (argument.empty()) {
        std::fprintf(stderr, "usage: %s FILE\n", command.c_str());
      } else if (command == "/save") {
        const Status s = chat.state().Save(argument);
        std::fprintf(stderr, "%s\n",
                     s.ok() ? ("(state saved to " + argument + ")").c_str()
                            : ("error: " + s.message()).c_str());
      } else {
        auto loaded = State::Load(argument, chat.config());
        if (loaded.ok()) chat.state() = std::move(*loaded);
        std::fprintf(stderr, "%s\n",
                     loaded.ok() ? ("(state loaded from " + argument + ")").c_str()
                                 : ("error: " + loaded.message()).c_str());
      }
    } else if (Status s = chat.Turn(message); !s.ok()) {
      Fail(s.message());
      return kExitNonFinite;
    }
  }
  return 0;
}

}  // namespace

Command AddChat(CLI::App& app) {
  auto args = std::make_shared<ChatArgs>();
  CLI::App* sub = app.add_subcommand(
      "chat",
      "Chat in the RWKV World format (User: …\\n\\nAssistant:), one message per stdin line; "
      "commands /save FILE, /load FILE, /reset, /quit");
  sub->add_option("-m,--model", args->model,
                  "Model: an RWKV-7 .pth/.gguf file or a Hugging Face folder (default: Anser's "
                  "own byte-level Shakespeare model)")
      ->type_name("MODEL");
  sub->add_option("--vocab", args->vocab, "World vocabulary file (as for generate)")
      ->type_name("FILE");
  sub->add_option("--system", args->system, "System prompt, fed once as 'System: TEXT\\n\\n'");
  sub->add_option("--state", args->state_in, "Start from this state file (also the /reset point)")

      ->check(CLI::ExistingFile);
  sub->add_option("-n,--max-tokens", args->max_tokens, "Tokens per reply at most")
      ->check(WholeInRange(0))
      ->capture_default_str();
  CLI::Option* seed = nullptr;
  AddSamplingFlags(sub, &args->sampling, &seed);
  AddGrammarFlags(sub, &args->grammar);
  AddThreadsFlag(sub, &args->threads);
  return {sub, [args, seed] { return RunChat(*args, seed->count() > 0); }};
}

}  // namespace anser::cli
