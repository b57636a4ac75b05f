// `anser`: the command-line front end. Each subcommand lives in its own cmd_*.cc file; this file
// only wires them together, answers --version, and turns usage errors into exit status 2 and
// stray exceptions into an error exit.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "common.h"
#include "system_report.h"

namespace {

// The (deepest) subcommand a parse error belongs to, for the hint after it.
std::string HelpHint(CLI::App& app) {
  std::string command = "anser";
  CLI::App* current = &app;
  while (!current->get_subcommands().empty()) {
    current = current->get_subcommands().front();
    command += " " + current->get_name();
  }
  if (current == &app) return "run 'anser --help' for the commands";
  return "run '" + command + " --help' for its flags";
}

}  // namespace

int main(int argc, char** argv) {
  using anser::cli::Command;
  try {
    CLI::App app{"anser: RWKV-7 language models on the CPU", "anser"};
    bool version = false;
    std::string format = "text";
    app.add_flag("--version", version,
                 "Print the version, the git commit, the compiler and the kernel table this CPU "
                 "gets, then exit");
    app.add_option("--format", format, "Output format of --version")
        ->check(CLI::IsMember({"text", "json"}));
    app.require_subcommand(0, 1);
    app.fallthrough(false);
    const std::vector<Command> commands = {
        anser::cli::AddGenerate(app), anser::cli::AddChat(app),       anser::cli::AddLogits(app),
        anser::cli::AddTokenize(app), anser::cli::AddDetokenize(app), anser::cli::AddInfo(app),
        anser::cli::AddEval(app),     anser::cli::AddBench(app),      anser::cli::AddQuantize(app),
        anser::cli::AddImatrix(app),
        anser::cli::AddConvert(app),
        anser::cli::AddGrad(app),
        anser::cli::AddTrain(app),
        anser::cli::AddPlotLoss(app),
        anser::cli::AddExperiment(app),
        anser::cli::AddCheck(app),
        anser::cli::AddServe(app),
    };
    anser::cli::SetCommandLine(argc, argv);
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      std::fprintf(stderr, "anser: error: %s\n%s\n", e.what(), HelpHint(app).c_str());
      return anser::cli::kExitUsage;
    }
    if (version) {
      const nlohmann::json v = anser::cli::VersionJson();
      anser::cli::WriteOut(format == "json" ? v.dump(2) + "\n" : anser::cli::VersionText(v));
      return 0;
    }
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
    // No subcommand: the help, as a usage error (on stderr, as every error; stdout stays empty).
    std::fputs(app.help().c_str(), stderr);
    return anser::cli::kExitUsage;
  } catch (const std::bad_alloc&) {
    return anser::cli::Fail("out of memory: try a smaller model, prompt or --prompt/--gen size");
  } catch (const std::exception& e) {
    return anser::cli::Fail(e.what());
  }
}
