// `anser`: the command-line front end. Each subcommand lives in its own cmd_*.cc file; this file
// only wires them together and turns stray exceptions into an error exit.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>
#include <vector>

#include "common.h"

int main(int argc, char** argv) {
  using anser::cli::Command;
  try {
    CLI::App app{"anser: RWKV-7 language models on the CPU", "anser"};
    app.set_version_flag("--version", "anser " ANSER_VERSION);
    app.require_subcommand(1);
    app.fallthrough(false);
    const std::vector<Command> commands = {
        anser::cli::AddGenerate(app), anser::cli::AddChat(app),       anser::cli::AddLogits(app),
        anser::cli::AddTokenize(app), anser::cli::AddDetokenize(app), anser::cli::AddInfo(app),
        anser::cli::AddEval(app),     anser::cli::AddBench(app),      anser::cli::AddQuantize(app),
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
    } catch (const CLI::ParseError& e) {
      return app.exit(e);
    }
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
    return anser::cli::Fail("no subcommand: run 'anser --help' for the list");
  } catch (const std::bad_alloc&) {
    return anser::cli::Fail("out of memory: try a smaller model, prompt or --prompt/--gen size");
  } catch (const std::exception& e) {
    return anser::cli::Fail(e.what());
  }
}
