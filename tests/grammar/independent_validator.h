// The independent judge of the grammar tests: tests/grammar/validate_json.py, run with Python
// (Python's json module and the jsonschema package; standard-library parsers for the GBNF test
// languages). One process per batch.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace anser::testing {

struct ValidationCase {
  nlohmann::json schema;  // a JSON Schema, or null with `language` set
  std::string language;   // "arithmetic", "csv" or "date" (see validate_json.py)
  std::vector<std::string> documents;
};

// One verdict per document per case: valid (true) or not. Fails the test (and returns empty
// lists) if the validator cannot run.
std::vector<std::vector<bool>> Validate(const std::vector<ValidationCase>& cases);

}  // namespace anser::testing
