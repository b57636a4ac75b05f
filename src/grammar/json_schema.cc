// JSON Schema → GBNF. The grammar admits only documents the schema accepts (it may admit fewer:
// bounded whitespace and number lengths, properties in declared order, canonical escapes in
// patterns); a keyword it cannot honour is an error, never ignored.
#include "grammar/json_schema.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "anser/grammar.h"
#include "grammar/codepoints.h"
#include "grammar/gbnf_text.h"
#include "grammar/integer_range.h"
#include "grammar/regex_to_gbnf.h"

namespace anser {
namespace {

using Json = nlohmann::ordered_json;
using grammar::Concat;
using grammar::GbnfClass;
using grammar::GbnfLiteral;
using grammar::JoinAlternatives;
using grammar::JsonStringLiteral;

// Shared rules, each with the rules it uses.
struct BaseRule {
  const char* name;
  const char* body;
  std::vector<const char*> uses;
};

const std::vector<BaseRule>& BaseRules() {
  static const std::vector<BaseRule> kRules = {
      // Whitespace is bounded so that a model cannot emit it forever.
      {"ws", R"(( " " | "\n" [ \t]{0,20} )?)", {}},
      {"json-value",
       R"(json-object | json-array | json-string | json-number | "true" | "false" | "null")",
       {"json-object", "json-array", "json-string", "json-number"}},
      {"json-object",
       R"("{" ws ( json-string ws ":" ws json-value ws ( "," ws json-string ws ":" ws json-value ws )* )? "}")",
       {"ws", "json-string", "json-value"}},
      {"json-array",
       R"("[" ws ( json-value ws ( "," ws json-value ws )* )? "]")",
       {"ws", "json-value"}},
      {"json-string", R"("\"" json-char* "\"")", {"json-char"}},
      // \u escapes of surrogates are left out: a lone one is not text, and a pair would count
      // as two characters here but one after decoding (minLength/maxLength).
      {"json-char", R"([^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" json-hex4 ))", {"json-hex4"}},
      {"json-hex4", R"([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2})", {}},
      {"json-number",
       R"("-"? json-natural ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,2} )?)",
       {"json-natural"}},
      {"json-natural", R"("0" | [1-9] [0-9]{0,15})", {}},
      {"json-integer", R"("0" | "-"? [1-9] [0-9]{0,15})", {}},
      {"json-date",
       R"(json-year "-" ( ( "01" | "03" | "05" | "07" | "08" | "10" | "12" ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ) | ( "04" | "06" | "09" | "11" ) "-" ( "0" [1-9] | [12] [0-9] | "30" ) | "02-" ( "0" [1-9] | "1" [0-9] | "2" [0-8] ) ) | json-leap-year "-02-29")",
       {"json-year", "json-leap-year"}},
      // Year 0000 is left out: RFC 3339 allows it, common validators (Python's date) do not.
      {"json-year", R"([1-9] [0-9]{3} | "0" [1-9] [0-9]{2} | "00" [1-9] [0-9] | "000" [1-9])", {}},
      {"json-leap-year",
       R"([0-9]{2} ( "0" [48] | [2468] [048] | [13579] [26] ) | ( "0" [48] | [2468] [048] | [13579] [26] ) "00")",
       {}},
      {"json-time",
       R"(( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{1,9} )? ( "Z" | [+-] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ))",
       {}},
      {"json-uuid",
       R"([0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12})",
       {}},
  };
  return kRules;
}

// Keywords that only annotate: they never change which documents are valid.
const std::set<std::string>& Annotations() {
  static const std::set<std::string> kKeys = {
      "title", "description", "default",          "examples",        "$schema",
      "$id",   "$comment",    "deprecated",       "readOnly",        "writeOnly",
      "$defs", "definitions", "contentMediaType", "contentEncoding", "discriminator"};
  return kKeys;
}

const std::set<std::string>& ObjectKeys() {
  static const std::set<std::string> kKeys = {"properties", "required", "additionalProperties"};
  return kKeys;
}
const std::set<std::string>& ArrayKeys() {
  static const std::set<std::string> kKeys = {"items", "prefixItems", "minItems", "maxItems"};
  return kKeys;
}
const std::set<std::string>& StringKeys() {
  static const std::set<std::string> kKeys = {"minLength", "maxLength", "pattern", "format"};
  return kKeys;
}
const std::set<std::string>& NumberKeys() {
  static const std::set<std::string> kKeys = {"minimum", "maximum", "exclusiveMinimum",
                                              "exclusiveMaximum"};
  return kKeys;
}

const std::vector<std::string>& AllTypes() {
  static const std::vector<std::string> kTypes = {"object",  "array",   "string", "number",
                                                  "integer", "boolean", "null"};
  return kTypes;
}

// The JSON type names a value has ("integer" values are also "number").
std::set<std::string> TypesOfValue(const Json& v) {
  if (v.is_object()) return {"object"};
  if (v.is_array()) return {"array"};
  if (v.is_string()) return {"string"};
  if (v.is_boolean()) return {"boolean"};
  if (v.is_null()) return {"null"};
  if (v.is_number_integer() || v.is_number_unsigned()) return {"integer", "number"};
  const double d = v.get<double>();
  if (std::isfinite(d) && std::floor(d) == d) return {"integer", "number"};
  return {"number"};
}

class SchemaConverter {
 public:
  SchemaConverter(const Json& root, std::string rule_prefix)
      : root_(root), prefix_(std::move(rule_prefix)) {}

  Result<grammar::SchemaGrammar> Convert() {
    grammar::SchemaGrammar out;
    ANSER_ASSIGN_OR_RETURN(out.value, Visit(root_, ""));
    out.rules = std::move(rules_);
    return out;
  }

 private:
  static std::string Where(const std::string& path) { return path.empty() ? "/" : path; }
  static Status Error(const std::string& path, const std::string& message) {
    return Status::Error("[json-schema] at " + Where(path) + ": " + message);
  }

  // Adds a shared rule (and those it uses) once; returns its name.
  std::string Use(const std::string& name) {
    if (used_.insert(name).second) {
      for (const BaseRule& rule : BaseRules()) {
        if (name != rule.name) continue;
        for (const char* dependency : rule.uses) Use(dependency);
        rules_.emplace_back(name, rule.body);
      }
    }
    return name;
  }

  std::string NewRule(const std::string& prefix, std::string body) {
    std::string name = prefix_ + prefix + std::to_string(++rule_counter_);
    rules_.emplace_back(name, std::move(body));
    return name;
  }

  Result<std::string> Visit(const Json& schema, const std::string& path) {
    if (depth_ >= kMaxDepth) return Error(path, "schema nested too deep");
    ++depth_;
    Result<std::string> out = VisitSchema(schema, path);
    --depth_;
    return out;
  }

  Result<std::string> VisitSchema(const Json& schema, const std::string& path) {
    if (schema.is_boolean()) {
      if (schema.get<bool>()) return Use("json-value");
      return Error(path, "the schema `false` matches nothing");
    }
    if (!schema.is_object()) return Error(path, "a schema must be an object or a boolean");
    for (const auto& [key, value] : schema.items()) {
      if (Annotations().count(key) || ObjectKeys().count(key) || ArrayKeys().count(key) ||
          StringKeys().count(key) || NumberKeys().count(key)) {
        continue;
      }
      if (key == "type" || key == "enum" || key == "const" || key == "$ref" || key == "anyOf" ||
          key == "oneOf" || key == "allOf") {
        continue;
      }
      return Error(
          path, "unsupported keyword '" + key + "' (see docs/STRUCTURED.md for what is supported)");
    }
    if (std::all_of(schema.items().begin(), schema.items().end(),
                    [](const auto& item) { return Annotations().count(item.key()) > 0; })) {
      return Use("json-value");  // no constraint at all
    }
    if (schema.contains("$ref")) {
      ANSER_RETURN_IF_ERROR(OnlyWith(schema, path, "$ref", {}));
      return Ref(schema["$ref"], path + "/$ref");
    }
    if (schema.contains("allOf")) return AllOf(schema, path);
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!schema.contains(key)) continue;
      ANSER_RETURN_IF_ERROR(OnlyWith(schema, path, key, {}));
      return Union(schema, path, key);
    }
    if (schema.contains("const") || schema.contains("enum")) return Values(schema, path);

    ANSER_ASSIGN_OR_RETURN(std::vector<std::string> types, Types(schema, path));
    std::vector<std::string> alternatives;
    for (const std::string& type : types) {
      ANSER_ASSIGN_OR_RETURN(std::string expr, OfType(schema, type, path));
      alternatives.push_back(expr);
    }
    return JoinAlternatives(alternatives);
  }

  // Errors if `schema` has keywords other than `key`, annotations and `allowed`.
  static Status OnlyWith(const Json& schema, const std::string& path, const std::string& key,
                         const std::set<std::string>& allowed) {
    for (const auto& [other, value] : schema.items()) {
      if (other == key || Annotations().count(other) || allowed.count(other)) continue;
      return Error(path, "'" + other + "' beside '" + key +
                             "' is not supported: move it into the subschemas");
    }
    return Status::Ok();
  }

  // The types a schema admits: its `type`, or the one its keywords imply (a narrower grammar
  // than the schema's, which also admits other types), or all of them.
  static Result<std::vector<std::string>> Types(const Json& schema, const std::string& path) {
    if (schema.contains("type")) {
      const Json& type = schema["type"];
      std::vector<std::string> types;
      if (type.is_string()) types.push_back(type.get<std::string>());
      if (type.is_array()) {
        for (const Json& t : type) {
          if (!t.is_string()) return Error(path, "'type' entries must be strings");
          types.push_back(t.get<std::string>());
        }
      }
      if (types.empty()) return Error(path, "'type' must be a string or an array of strings");
      for (const std::string& t : types) {
        if (std::find(AllTypes().begin(), AllTypes().end(), t) == AllTypes().end()) {
          return Error(path, "unknown type '" + t + "'");
        }
      }
      return types;
    }
    auto has_any = [&](const std::set<std::string>& keys) {
      return std::any_of(keys.begin(), keys.end(),
                         [&](const std::string& k) { return schema.contains(k); });
    };
    if (has_any(ObjectKeys())) return std::vector<std::string>{"object"};
    if (has_any(ArrayKeys())) return std::vector<std::string>{"array"};
    if (has_any(StringKeys())) return std::vector<std::string>{"string"};
    if (has_any(NumberKeys())) return std::vector<std::string>{"number"};
    return AllTypes();
  }

  Result<std::string> OfType(const Json& schema, const std::string& type, const std::string& path) {
    if (type == "object") return Object(schema, path);
    if (type == "array") return Array(schema, path);
    if (type == "string") return String(schema, path);
    if (type == "integer") return Integer(schema, path);
    if (type == "number") return Number(schema, path);
    if (type == "boolean") return std::string(R"(( "true" | "false" ))");
    return std::string(R"("null")");
  }

  // `const` / `enum`: the values themselves (of the schema's `type`, when it has one).
  Result<std::string> Values(const Json& schema, const std::string& path) {
    ANSER_RETURN_IF_ERROR(OnlyWith(schema, path, schema.contains("const") ? "const" : "enum",
                                   {"type", "enum", "const"}));
    std::vector<Json> values;
    if (schema.contains("enum")) {
      if (!schema["enum"].is_array()) return Error(path, "'enum' must be an array");
      for (const Json& v : schema["enum"]) values.push_back(v);
    }
    if (schema.contains("const")) {
      const Json& c = schema["const"];
      // With both, only the const survives, if the enum holds it.
      if (schema.contains("enum") && std::find(values.begin(), values.end(), c) == values.end()) {
        values.clear();
      } else {
        values = {c};
      }
    }
    std::vector<std::string> types;
    if (schema.contains("type")) {
      ANSER_ASSIGN_OR_RETURN(types, Types(schema, path));
    }
    std::vector<std::string> alternatives;
    for (const Json& v : values) {
      if (!types.empty()) {
        const std::set<std::string> of_value = TypesOfValue(v);
        if (std::none_of(types.begin(), types.end(),
                         [&](const std::string& t) { return of_value.count(t) > 0; })) {
          continue;
        }
      }
      alternatives.push_back(GbnfLiteral(v.dump()));
    }
    if (alternatives.empty()) return Error(path, "no value satisfies 'const'/'enum' and 'type'");
    return JoinAlternatives(alternatives);
  }

  Result<std::string> Ref(const Json& ref, const std::string& path) {
    if (!ref.is_string()) return Error(path, "'$ref' must be a string");
    const std::string target = ref.get<std::string>();
    if (const auto it = ref_rules_.find(target); it != ref_rules_.end()) return it->second;
    ANSER_ASSIGN_OR_RETURN(const Json* schema, Resolve(target, path));
    // Named before it is built, so a recursive schema refers to its own rule.
    std::string name = prefix_ + "ref" + std::to_string(++rule_counter_);
    ref_rules_[target] = name;
    const size_t slot = rules_.size();
    rules_.emplace_back(name, "");
    ANSER_ASSIGN_OR_RETURN(std::string body, Visit(*schema, target.substr(1)));
    rules_[slot].second = std::move(body);
    return name;
  }

  Result<const Json*> Resolve(const std::string& ref, const std::string& path) {
    if (ref.empty() || ref[0] != '#') {
      return Error(
          path, "only references inside the schema ('#/$defs/…') are supported, not '" + ref + "'");
    }
    try {
      const Json::json_pointer pointer(ref.substr(1));
      if (!root_.contains(pointer)) return Error(path, "'$ref' target " + ref + " does not exist");
      return &root_.at(pointer);
    } catch (const Json::exception& e) {
      return Error(path, "bad '$ref' " + ref + ": " + e.what());
    }
  }

  // Follows $ref chains (for inspecting a subschema, not for generating it).
  Result<const Json*> Dereference(const Json* schema, const std::string& path) {
    for (int hops = 0; schema->is_object() && schema->contains("$ref"); ++hops) {
      if (hops > 64) return Error(path, "'$ref' chain too long (a cycle?)");
      const Json& ref = (*schema)["$ref"];
      if (!ref.is_string()) return Error(path, "'$ref' must be a string");
      ANSER_ASSIGN_OR_RETURN(schema, Resolve(ref.get<std::string>(), path));
    }
    return schema;
  }

  Result<std::string> Union(const Json& schema, const std::string& path, const std::string& key) {
    const Json& branches = schema[key];
    if (!branches.is_array() || branches.empty()) {
      return Error(path, "'" + key + "' must be a non-empty array");
    }
    if (key == "oneOf") ANSER_RETURN_IF_ERROR(CheckDisjoint(branches, path));
    std::vector<std::string> alternatives;
    for (size_t k = 0; k < branches.size(); ++k) {
      ANSER_ASSIGN_OR_RETURN(std::string expr,
                             Visit(branches[k], path + "/" + key + "/" + std::to_string(k)));
      alternatives.push_back(expr);
    }
    return JoinAlternatives(alternatives);
  }

  // oneOf means exactly one branch matches; the grammar can only say "one of", so the branches
  // must be unable to match the same document.
  Status CheckDisjoint(const Json& branches, const std::string& path) {
    for (size_t a = 0; a < branches.size(); ++a) {
      for (size_t b = a + 1; b < branches.size(); ++b) {
        Result<bool> disjoint = Disjoint(branches[a], branches[b], path, 0);
        if (!disjoint.ok()) return disjoint.status();
        if (!*disjoint) {
          return Error(path, "oneOf branches " + std::to_string(a) + " and " + std::to_string(b) +
                                 " may both match a document, which a grammar cannot exclude: "
                                 "use anyOf, or give the branches different types or a "
                                 "property with different const values");
        }
      }
    }
    return Status::Ok();
  }

  // The value types a schema can match, as far as its keywords say.
  static std::set<std::string> PossibleTypes(const Json& s) {
    std::set<std::string> types;
    if (s.is_object() && (s.contains("const") || s.contains("enum"))) {
      std::vector<Json> values;
      if (s.contains("const")) values.push_back(s["const"]);
      if (s.contains("enum") && s["enum"].is_array()) {
        for (const Json& v : s["enum"]) values.push_back(v);
      }
      for (const Json& v : values) {
        const auto t = TypesOfValue(v);
        types.insert(t.begin(), t.end());
      }
      return types;
    }
    Result<std::vector<std::string>> declared = Types(s.is_object() ? s : Json::object(), "");
    if (!s.is_object() || !s.contains("type") || !declared.ok()) {
      return {AllTypes().begin(), AllTypes().end()};
    }
    types.insert(declared->begin(), declared->end());
    if (types.count("number")) types.insert("integer");  // numbers include integers
    return types;
  }

  Result<bool> Disjoint(const Json& a_in, const Json& b_in, const std::string& path, int depth) {
    if (depth > 8) return false;
    ANSER_ASSIGN_OR_RETURN(const Json* a, Dereference(&a_in, path));
    ANSER_ASSIGN_OR_RETURN(const Json* b, Dereference(&b_in, path));
    const std::set<std::string> ta = PossibleTypes(*a);
    const std::set<std::string> tb = PossibleTypes(*b);
    if (std::none_of(ta.begin(), ta.end(), [&](const std::string& t) { return tb.count(t) > 0; })) {
      return true;
    }
    auto values = [](const Json& s) -> std::optional<std::vector<Json>> {
      if (!s.is_object()) return std::nullopt;
      if (s.contains("const")) return std::vector<Json>{s["const"]};
      if (s.contains("enum") && s["enum"].is_array()) {
        return std::vector<Json>(s["enum"].begin(), s["enum"].end());
      }
      return std::nullopt;
    };
    const auto va = values(*a);
    const auto vb = values(*b);
    if (va && vb) {
      return std::none_of(va->begin(), va->end(), [&](const Json& v) {
        return std::find(vb->begin(), vb->end(), v) != vb->end();
      });
    }
    // Objects told apart by a property both require, with disjoint schemas.
    if (a->is_object() && b->is_object() && a->contains("properties") &&
        b->contains("properties") && (*a)["properties"].is_object() &&
        (*b)["properties"].is_object()) {
      auto required = [](const Json& s, const std::string& name) {
        if (!s.contains("required") || !s["required"].is_array()) return false;
        return std::find(s["required"].begin(), s["required"].end(), Json(name)) !=
               s["required"].end();
      };
      for (const auto& [name, sub] : (*a)["properties"].items()) {
        if (!(*b)["properties"].contains(name) || !required(*a, name) || !required(*b, name)) {
          continue;
        }
        ANSER_ASSIGN_OR_RETURN(bool apart,
                               Disjoint(sub, (*b)["properties"][name], path, depth + 1));
        if (apart) return true;
      }
    }
    return false;
  }

  // allOf of object schemas: merged into one object schema.
  Result<std::string> AllOf(const Json& schema, const std::string& path) {
    const Json& branches = schema["allOf"];
    if (!branches.is_array() || branches.empty()) {
      return Error(path, "'allOf' must be a non-empty array");
    }
    std::vector<const Json*> parts;
    // The schema's own object keywords count as one more branch.
    Json own = Json::object();
    for (const auto& [key, value] : schema.items()) {
      if (key == "allOf" || Annotations().count(key)) continue;
      if (ObjectKeys().count(key) || (key == "type" && value == "object")) {
        own[key] = value;
        continue;
      }
      return Error(path, "'" + key + "' beside 'allOf' is not supported (only object keywords)");
    }
    parts.push_back(&own);
    for (size_t k = 0; k < branches.size(); ++k) {
      const std::string where = path + "/allOf/" + std::to_string(k);
      ANSER_ASSIGN_OR_RETURN(const Json* part, Dereference(&branches[k], where));
      if (!part->is_object()) return Error(where, "allOf branches must be object schemas");
      for (const auto& [key, value] : part->items()) {
        if (Annotations().count(key) || ObjectKeys().count(key) ||
            (key == "type" && value == "object")) {
          continue;
        }
        return Error(where,
                     "allOf is supported for object schemas only; '" + key + "' cannot be merged");
      }
      parts.push_back(part);
    }
    ANSER_ASSIGN_OR_RETURN(Json merged, MergeObjects(parts, path));
    return Visit(merged, path);
  }

  static Result<Json> MergeObjects(const std::vector<const Json*>& parts, const std::string& path) {
    Json merged = Json::object();
    merged["type"] = "object";
    Json required = Json::array();
    std::vector<std::string> names;
    for (const Json* part : parts) {
      if (part->contains("required")) {
        for (const Json& r : (*part)["required"]) {
          if (std::find(required.begin(), required.end(), r) == required.end())
            required.push_back(r);
        }
      }
      if (part->contains("properties")) {
        for (const auto& [name, sub] : (*part)["properties"].items()) {
          if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
        }
      }
    }
    // What each part says about a key: its property schema, else its additionalProperties.
    auto constraint = [](const Json& part, const std::string& name) -> std::optional<Json> {
      if (part.contains("properties") && part["properties"].contains(name)) {
        return part["properties"][name];
      }
      if (part.contains("additionalProperties")) return part["additionalProperties"];
      return std::nullopt;
    };
    Json properties = Json::object();
    for (const std::string& name : names) {
      std::vector<Json> constraints;
      bool forbidden = false;
      for (const Json* part : parts) {
        const std::optional<Json> c = constraint(*part, name);
        if (!c || *c == Json(true) || *c == Json::object()) continue;
        if (*c == Json(false)) {
          forbidden = true;
          continue;
        }
        if (std::find(constraints.begin(), constraints.end(), *c) == constraints.end()) {
          constraints.push_back(*c);
        }
      }
      const bool is_required =
          std::find(required.begin(), required.end(), Json(name)) != required.end();
      if (forbidden) {
        if (is_required) {
          return Error(path, "allOf: property '" + name +
                                 "' is required by one branch and forbidden by another");
        }
        continue;
      }
      if (constraints.size() > 1) {
        return Error(path,
                     "allOf: property '" + name +
                         "' is constrained by two different subschemas, which cannot be merged");
      }
      properties[name] = constraints.empty() ? Json(true) : constraints[0];
    }
    std::vector<Json> additional;
    bool closed = false;
    for (const Json* part : parts) {
      if (!part->contains("additionalProperties")) continue;
      const Json& a = (*part)["additionalProperties"];
      if (a == Json(false)) closed = true;
      if (a == Json(false) || a == Json(true) || a == Json::object()) continue;
      if (std::find(additional.begin(), additional.end(), a) == additional.end())
        additional.push_back(a);
    }
    if (!closed && additional.size() > 1) {
      return Error(path, "allOf: two different additionalProperties schemas cannot be merged");
    }
    merged["properties"] = properties;
    merged["required"] = required;
    if (closed) {
      merged["additionalProperties"] = false;
    } else if (!additional.empty()) {
      merged["additionalProperties"] = additional[0];
    }
    return merged;
  }

  Result<std::string> Object(const Json& schema, const std::string& path) {
    struct Property {
      std::string name;
      std::string value;  // GBNF of the value
      bool required = false;
    };
    std::vector<Property> properties;
    std::set<std::string> required;
    if (schema.contains("required")) {
      if (!schema["required"].is_array()) return Error(path, "'required' must be an array");
      for (const Json& r : schema["required"]) {
        if (!r.is_string()) return Error(path, "'required' entries must be strings");
        required.insert(r.get<std::string>());
      }
    }
    std::optional<Json> additional;  // nullopt: no other keys
    if (!schema.contains("additionalProperties")) {
      additional = Json(true);
    } else if (schema["additionalProperties"] != Json(false)) {
      additional = schema["additionalProperties"];
    }
    std::set<std::string> declared;
    if (schema.contains("properties")) {
      if (!schema["properties"].is_object()) return Error(path, "'properties' must be an object");
      for (const auto& [name, sub] : schema["properties"].items()) {
        ANSER_ASSIGN_OR_RETURN(std::string value, Visit(sub, path + "/properties/" + name));
        properties.push_back({name, value, required.count(name) > 0});
        declared.insert(name);
      }
    }
    for (const std::string& name : required) {
      if (declared.count(name)) continue;
      if (!additional) {
        return Error(
            path,
            "'" + name + "' is required but not a property, and additionalProperties is false");
      }
      ANSER_ASSIGN_OR_RETURN(std::string value, Visit(*additional, path + "/additionalProperties"));
      properties.push_back({name, value, true});
      declared.insert(name);
    }
    std::string extra;  // one additional key-value pair
    if (additional) {
      // The rule for "any other key" spells out each declared name a character a level deep.
      for (const std::string& name : declared) {
        if (DecodeUtf8(name).size() > kMaxOtherKeyNameChars) {
          return Error(path, "a property name over " + std::to_string(kMaxOtherKeyNameChars) +
                                 " characters needs \"additionalProperties\": false");
        }
      }
      ANSER_ASSIGN_OR_RETURN(std::string value, Visit(*additional, path + "/additionalProperties"));
      extra = NewRule("extra",
                      "\"\\\"\" " + KeyNotIn(declared) + " \"\\\"\" ws \":\" ws " + value + " ws");
    }
    Use("ws");
    // tail(i): properties i… each after a comma; head(i): the same, the first without one.
    const int n = static_cast<int>(properties.size());
    std::string tail = extra.empty() ? "" : "( \",\" ws " + extra + " )*";
    std::string head = extra.empty() ? "" : "( " + extra + " ( \",\" ws " + extra + " )* )?";
    for (int i = n - 1; i >= 0; --i) {
      const Property& p = properties[i];
      const std::string pair = JsonStringLiteral(p.name) + " ws \":\" ws " + p.value + " ws";
      const std::string tail_rule = tail.empty() ? "" : Concat({" ", NewRule("tail", tail)});
      if (p.required) {
        head = pair + tail_rule;
        tail = "\",\" ws " + pair + tail_rule;
      } else {
        const std::string head_rule = head.empty() ? "" : NewRule("head", head);
        head = Concat({pair, tail_rule, " | ", head_rule.empty() ? "\"\"" : head_rule});
        tail = "( \",\" ws " + pair + " )?" + tail_rule;
      }
    }
    if (head.empty()) return std::string(R"("{" ws "}")");
    return Concat({"\"{\" ws ( ", head, " ) \"}\""});
  }

  // JSON string contents that are not one of `names`: written without escapes, so that no
  // escape can spell a declared name.
  std::string KeyNotIn(const std::set<std::string>& names) {
    std::vector<std::u32string> decoded;
    for (const std::string& name : names) decoded.push_back(DecodeUtf8(name));
    return NotIn(decoded, 0, JoinKeyChars());
  }

  std::string JoinKeyChars() { return GbnfClass(grammar::JsonUnescapedChars()); }

  // Names come from parsed JSON, so they are well-formed UTF-8.
  static std::u32string DecodeUtf8(std::string_view s) {
    std::u32string out;
    while (const std::optional<grammar::DecodedChar> c = grammar::DecodeUtf8Char(s)) {
      out += static_cast<char32_t>(c->cp);
      s.remove_prefix(static_cast<size_t>(c->length));
    }
    return out;
  }

  // Contents that differ from every name in `names` (all sharing their first `depth` chars).
  std::string NotIn(const std::vector<std::u32string>& names, size_t depth,
                    const std::string& key_char) {
    std::vector<std::string> alternatives;
    bool a_name_ends_here = false;
    std::map<char32_t, std::vector<std::u32string>> by_next;
    for (const std::u32string& name : names) {
      if (name.size() == depth) {
        a_name_ends_here = true;
      } else {
        by_next[name[depth]].push_back(name);
      }
    }
    if (!a_name_ends_here) alternatives.push_back("\"\"");
    grammar::CodepointSet next;
    for (const auto& [c, group] : by_next)
      next.push_back({static_cast<uint32_t>(c), static_cast<uint32_t>(c)});
    const grammar::CodepointSet others =
        grammar::Subtract(grammar::JsonUnescapedChars(), grammar::Normalize(next));
    if (!others.empty()) alternatives.push_back(GbnfClass(others) + " " + key_char + "*");
    for (const auto& [c, group] : by_next) {
      // A character that needs escaping cannot be written here, so that name cannot be formed.
      if (!grammar::Contains(grammar::JsonUnescapedChars(), static_cast<uint32_t>(c))) continue;
      alternatives.push_back(GbnfLiteral(grammar::EncodeUtf8(static_cast<uint32_t>(c))) + " " +
                             NotIn(group, depth + 1, key_char));
    }
    return JoinAlternatives(alternatives);
  }

  static Result<std::optional<int64_t>> Count(const Json& schema, const char* key,
                                              const std::string& path) {
    if (!schema.contains(key)) return std::optional<int64_t>();
    const Json& v = schema[key];
    if (!v.is_number_integer() && !v.is_number_unsigned()) {
      return Error(path, std::string("'") + key + "' must be a non-negative integer");
    }
    const int64_t n = v.get<int64_t>();
    if (n < 0) return Error(path, std::string("'") + key + "' must be a non-negative integer");
    if (n > 10000) return Error(path, std::string("'") + key + "' above 10000 is not supported");
    return std::optional<int64_t>(n);
  }

  Result<std::string> Array(const Json& schema, const std::string& path) {
    std::vector<std::string> prefix;
    if (schema.contains("prefixItems")) {
      const Json& items = schema["prefixItems"];
      if (!items.is_array()) return Error(path, "'prefixItems' must be an array");
      for (size_t k = 0; k < items.size(); ++k) {
        ANSER_ASSIGN_OR_RETURN(std::string e,
                               Visit(items[k], path + "/prefixItems/" + std::to_string(k)));
        prefix.push_back(e);
      }
    }
    std::string item;  // "" when no item may follow the prefix
    if (!schema.contains("items")) {
      item = Use("json-value");
    } else if (schema["items"].is_array()) {
      return Error(path, "'items' as an array is the old tuple form: use 'prefixItems'");
    } else if (schema["items"] != Json(false)) {
      ANSER_ASSIGN_OR_RETURN(item, Visit(schema["items"], path + "/items"));
    }
    ANSER_ASSIGN_OR_RETURN(std::optional<int64_t> min_items, Count(schema, "minItems", path));
    ANSER_ASSIGN_OR_RETURN(std::optional<int64_t> max_items, Count(schema, "maxItems", path));
    const int64_t k = static_cast<int64_t>(prefix.size());
    const int64_t min = min_items.value_or(0);
    int64_t max = max_items.value_or(-1);
    if (item.empty()) max = max < 0 ? k : std::min(max, k);
    if (max >= 0 && min > max) {
      return Error(path, "no array satisfies minItems with maxItems (and items/prefixItems)");
    }
    Use("ws");
    auto element = [&](int64_t i) { return (i < k ? prefix[i] : item) + " ws"; };
    // rest(i): elements i… each after a comma, given that elements before i are there.
    std::string rest;
    if (!item.empty()) {
      // The first element after the prefix (or after element 0 when there is no prefix).
      const int64_t first = std::max<int64_t>(k, 1);
      const int64_t from = std::max<int64_t>(0, min - first);
      const int64_t to = max < 0 ? -1 : std::max<int64_t>(0, max - first);
      if (to != 0) {
        rest = "( \",\" ws " + item + " ws ){" + std::to_string(from) + "," +
               (to < 0 ? "" : std::to_string(to)) + "}";
      }
    }
    for (int64_t i = std::min<int64_t>(k, max < 0 ? k : max) - 1; i >= 1; --i) {
      const std::string step = "\",\" ws " + element(i) + (rest.empty() ? "" : " " + rest);
      rest = i < min ? step : "( " + step + " )?";
    }
    std::string body;
    if (max != 0) {
      body = element(0) + (rest.empty() ? "" : " " + rest);
      if (min == 0) body = "( " + body + " )?";
    }
    return "\"[\" ws " + body + (body.empty() ? "" : " ") + "\"]\"";
  }

  Result<std::string> String(const Json& schema, const std::string& path) {
    ANSER_ASSIGN_OR_RETURN(std::optional<int64_t> min_length, Count(schema, "minLength", path));
    ANSER_ASSIGN_OR_RETURN(std::optional<int64_t> max_length, Count(schema, "maxLength", path));
    const bool lengths = min_length || max_length;
    const int constraints = (lengths ? 1 : 0) + (schema.contains("pattern") ? 1 : 0) +
                            (schema.contains("format") ? 1 : 0);
    if (constraints > 1) {
      return Error(path, "combining pattern, format and minLength/maxLength is not supported");
    }
    if (schema.contains("pattern")) {
      if (!schema["pattern"].is_string()) return Error(path, "'pattern' must be a string");
      Result<std::string> content = grammar::PatternToGbnf(schema["pattern"].get<std::string>());
      if (!content.ok()) return Error(path, content.message());
      return "\"\\\"\" " + *content + " \"\\\"\"";
    }
    if (schema.contains("format")) {
      const std::string format =
          schema["format"].is_string() ? schema["format"].get<std::string>() : "";
      std::string content;
      if (format == "date") content = Use("json-date");
      if (format == "time") content = Use("json-time");
      if (format == "date-time") content = Use("json-date") + " \"T\" " + Use("json-time");
      if (format == "uuid") content = Use("json-uuid");
      if (content.empty()) {
        return Error(path,
                     "format '" + format + "' is not supported (date, time, date-time, uuid are)");
      }
      return "\"\\\"\" " + content + " \"\\\"\"";
    }
    if (lengths) {
      const int64_t lo = min_length.value_or(0);
      const int64_t hi = max_length.value_or(-1);
      if (hi >= 0 && hi < lo) return Error(path, "minLength is above maxLength");
      return "\"\\\"\" " + Use("json-char") + "{" + std::to_string(lo) + "," +
             (hi < 0 ? "" : std::to_string(hi)) + "} \"\\\"\"";
    }
    return Use("json-string");
  }

  // Integer bounds: minimum/maximum and the exclusive forms (numbers, as in drafts 6 and later).
  static Result<std::pair<std::optional<int64_t>, std::optional<int64_t>>> IntegerBounds(
      const Json& schema, const std::string& path) {
    std::optional<int64_t> lo, hi;
    constexpr double kLimit = 1e16;
    for (const char* key : {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}) {
      if (!schema.contains(key)) continue;
      const Json& v = schema[key];
      if (!v.is_number()) return Error(path, std::string("'") + key + "' must be a number");
      const double x = v.get<double>();
      const std::string k = key;
      if (k == "minimum" || k == "exclusiveMinimum") {
        if (x >= kLimit)
          return Error(path, "'" + k + "' beyond the integers a grammar writes (16 digits)");
        if (x <= -kLimit) continue;
        const double bound = k == "minimum" ? std::ceil(x) : std::floor(x) + 1;
        lo =
            std::max(lo.value_or(std::numeric_limits<int64_t>::min()), static_cast<int64_t>(bound));
      } else {
        if (x <= -kLimit)
          return Error(path, "'" + k + "' beyond the integers a grammar writes (16 digits)");
        if (x >= kLimit) continue;
        const double bound = k == "maximum" ? std::floor(x) : std::ceil(x) - 1;
        hi =
            std::min(hi.value_or(std::numeric_limits<int64_t>::max()), static_cast<int64_t>(bound));
      }
    }
    if (lo && hi && *lo > *hi) return Error(path, "no integer lies between the bounds");
    return std::make_pair(lo, hi);
  }

  Result<std::string> Integer(const Json& schema, const std::string& path) {
    ANSER_ASSIGN_OR_RETURN(auto bounds, IntegerBounds(schema, path));
    if (!bounds.first && !bounds.second) return Use("json-integer");
    return grammar::IntegerRangeGbnf(bounds.first, bounds.second);
  }

  Result<std::string> Number(const Json& schema, const std::string& path) {
    bool non_negative = false;
    for (const auto& [key, value] : schema.items()) {
      if (!NumberKeys().count(key)) continue;
      if (key == "minimum" && value.is_number() && value.get<double>() == 0.0) {
        non_negative = true;
        continue;
      }
      return Error(path, "'" + key +
                             "' on a non-integer number is not supported (only minimum: 0; use "
                             "type integer for other bounds)");
    }
    if (!non_negative) return Use("json-number");
    Use("json-natural");
    return std::string(R"(json-natural ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,2} )?)");
  }

  static constexpr int kMaxDepth = 100;
  // Property names beside additional properties: the grammar nests one level a character, and
  // the GBNF parser refuses nesting past 200.
  static constexpr size_t kMaxOtherKeyNameChars = 100;
  const Json& root_;
  std::string prefix_;  // of the rules made for this schema (not of the shared json-* rules)
  int depth_ = 0;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::set<std::string> used_;
  std::map<std::string, std::string> ref_rules_;
  int rule_counter_ = 0;
};

}  // namespace

namespace grammar {

Result<SchemaGrammar> ConvertJsonSchema(std::string_view schema, const std::string& rule_prefix) {
  Json parsed;
  try {
    parsed = Json::parse(schema);
  } catch (const Json::exception& e) {
    return Status::Error(std::string("[json-schema] not valid JSON: ") + e.what());
  }
  return SchemaConverter(parsed, rule_prefix).Convert();
}

std::string RulesText(const std::vector<std::pair<std::string, std::string>>& rules) {
  std::string out;
  for (const auto& [name, body] : rules) out += Concat({name, " ::= ", body, "\n"});
  return out;
}

}  // namespace grammar

Result<std::string> JsonSchemaToGbnf(std::string_view schema) {
  ANSER_ASSIGN_OR_RETURN(grammar::SchemaGrammar converted, grammar::ConvertJsonSchema(schema, ""));
  // An optional leading space: a reply after "Assistant:" or "Answer:" usually starts with one.
  return Concat({"root ::= \" \"? ", converted.value, "\n", grammar::RulesText(converted.rules)});
}

std::string AnyJsonGbnf() {
  std::string out = "root ::= \" \"? json-value\n";
  std::set<std::string> wanted = {"ws",         "json-value",  "json-object",
                                  "json-array", "json-string", "json-char",
                                  "json-hex4",  "json-number", "json-natural"};
  for (const auto& rule : BaseRules()) {
    if (wanted.count(rule.name)) out += std::string(rule.name) + " ::= " + rule.body + "\n";
  }
  return out;
}

}  // namespace anser
