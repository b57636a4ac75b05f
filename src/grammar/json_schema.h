// JSON Schema → GBNF rules, for grammars that embed a schema (tool calls) as well as for
// JsonSchemaToGbnf.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "anser/status.h"

namespace anser::grammar {

struct SchemaGrammar {
  std::string value;  // a GBNF expression for one document (no leading space)
  // The rules it uses: those made for this schema start with the prefix; the shared ones
  // (ws, json-value, json-string, …) do not, and are the same in every conversion.
  std::vector<std::pair<std::string, std::string>> rules;
};

Result<SchemaGrammar> ConvertJsonSchema(std::string_view schema, const std::string& rule_prefix);

// "name ::= body" lines.
std::string RulesText(const std::vector<std::pair<std::string, std::string>>& rules);

}  // namespace anser::grammar
