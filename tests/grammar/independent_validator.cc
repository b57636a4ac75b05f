#include "independent_validator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "test_files.h"

namespace anser::testing {

std::vector<std::vector<bool>> Validate(const std::vector<ValidationCase>& cases) {
  nlohmann::json request = nlohmann::json::array();
  for (const ValidationCase& c : cases) {
    nlohmann::json entry;
    if (c.language.empty()) {
      entry["schema"] = c.schema;
    } else {
      entry["language"] = c.language;
    }
    // Documents are UTF-8 by construction (grammars only admit whole characters).
    entry["documents"] = c.documents;
    request.push_back(entry);
  }
  const std::string in = ScratchPath("validate_request.json");
  const std::string out = ScratchPath("validate_result.json");
  WriteAll(in, request.dump());
  const std::string command = std::string("'") + ANSER_PYTHON + "' '" + ANSER_SOURCE_DIR +
                              "/tests/grammar/validate_json.py' '" + in + "' '" + out + "'";
  const int status = std::system(command.c_str());
  std::vector<std::vector<bool>> verdicts(cases.size());
  if (status != 0) {
    ADD_FAILURE() << "the validator failed (" << status << "): " << command;
    return verdicts;
  }
  const nlohmann::json result = nlohmann::json::parse(ReadAll(out));
  for (size_t k = 0; k < cases.size(); ++k) {
    for (const auto& v : result.at(k)) verdicts[k].push_back(v.get<bool>());
  }
  return verdicts;
}

}  // namespace anser::testing
