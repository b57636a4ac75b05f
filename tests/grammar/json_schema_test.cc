// JSON Schema → grammar, judged by an independent validator (Python's jsonschema): for each
// schema, hand-written documents get the same verdict from the grammar as from the validator,
// and documents drawn at random from the grammar are all valid. Plus the converter's errors.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "anser/grammar.h"
#include "grammar_test_util.h"
#include "independent_validator.h"

namespace anser {
namespace {

using testing::ByteVocabulary;
using testing::Matches;
using testing::ValidationCase;

struct SchemaCase {
  const char* name;
  const char* schema;
  std::vector<std::string> documents;  // valid and invalid, in the grammar's layout
};

const std::vector<SchemaCase>& Cases() {
  static const std::vector<SchemaCase> kCases = {
      {"object_required_bounds",
       R"({"type":"object","properties":{"name":{"type":"string","minLength":1,"maxLength":10},
           "age":{"type":"integer","minimum":0,"maximum":150},"email":{"type":"string"}},
           "required":["name","age"],"additionalProperties":false})",
       {R"({"name":"Al","age":30})", R"({"name": "Bo", "age": 0, "email": "x@y"})",
        "{\n  \"name\": \"\xC3\xA9\",\n  \"age\": 150\n}", R"( {"name":"\u00e9\n","age":7})",
        R"({"name":"","age":3})", R"({"name":"Al"})", R"({"name":"Al","age":151})",
        R"({"name":"Al","age":-1})", R"({"name":"Al","age":3,"extra":1})",
        R"({"name":"abcdefghijk","age":1})", R"({"name":"Al","age":3.5})", R"({"age":3})", R"([])",
        R"("Al")"}},
      {"additional_properties_schema",
       R"({"type":"object","properties":{"id":{"type":"integer"}},"additionalProperties":{"type":"boolean"}})",
       {R"({})", R"({"id":1})", R"({"id":1,"x":true})", R"({"x":false,"y":true})",
        R"({"idx":true})", R"({"i":false})", R"({"id":true})", R"({"x":1})",
        R"({"id":1,"x":null})"}},
      {"array_bounds",
       R"({"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":4})",
       {"[1,2]", "[1, 2, 3, 4]", "[ 1 ,2 ]", "[1]", "[]", "[1,2,3,4,5]", R"([1,"a"])"}},
      {"prefix_items_closed",
       R"({"type":"array","prefixItems":[{"type":"string"},{"type":"number"}],"items":false})",
       {"[]", R"(["a"])", R"(["a",1.5])", R"(["a",-2e5])", "[1]", R"(["a",1,2])", R"(["a","b"])"}},
      {"prefix_items_then_items",
       R"({"prefixItems":[{"const":"x"}],"items":{"type":"boolean"},"minItems":1,"maxItems":3})",
       {R"(["x"])", R"(["x",true,false])", "[]", R"(["x",true,true,true])", "[true]",
        R"(["x","x"])"}},
      {"enum_and_const",
       R"({"type":"object","properties":{"color":{"enum":["red","green",3,null,{"a":[1]}]},
           "v":{"const":"fixed"}},"required":["color","v"],"additionalProperties":false})",
       {R"({"color":"red","v":"fixed"})", R"({"color":3,"v":"fixed"})",
        R"({"color":null,"v":"fixed"})", R"({"color":{"a":[1]},"v":"fixed"})",
        R"({"color":"blue","v":"fixed"})", R"({"color":4,"v":"fixed"})",
        R"({"color":{"a":[2]},"v":"fixed"})", R"({"color":"red","v":"other"})"}},
      {"any_of",
       R"({"anyOf":[{"type":"string","maxLength":3},{"type":"integer","minimum":10},{"type":"null"}]})",
       {R"("abc")", "10", "null", R"("abcd")", "9", "true"}},
      {"one_of_discriminated",
       R"({"oneOf":[{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},
           "required":["kind","x"],"additionalProperties":false},
          {"type":"object","properties":{"kind":{"const":"b"},"y":{"type":"string"}},
           "required":["kind","y"],"additionalProperties":false}]})",
       {R"({"kind":"a","x":1})", R"({"kind":"b","y":"s"})", R"({"kind":"a","y":"s"})",
        R"({"kind":"c","x":1})", R"({"kind":"b","y":2})"}},
      {"all_of_objects",
       R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},
           {"type":"object","properties":{"b":{"type":"string"}},"required":["b"]}]})",
       {R"({"a":1,"b":"x"})", R"({"a":1,"b":"x","c":[3]})", R"({"a":1})", R"({"b":"x"})",
        R"({"a":"1","b":"x"})"}},
      {"recursive_tree_defs",
       R"({"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},
           "children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},
           "required":["value"],"additionalProperties":false}},"$ref":"#/$defs/node"})",
       {R"({"value":1})", R"({"value":1,"children":[{"value":2,"children":[]},{"value":3}]})",
        R"({"value":1,"children":[{"value":2,"children":[{"value":3,"children":[{"value":4}]}]}]})",
        R"({"value":1,"children":[{"value":"x"}]})", R"({"value":1,"children":[{},{}]})",
        R"({"value":1,"children":[{"value":1},{"value":2},{"value":3}]})"}},
      {"recursive_definitions_linked_list",
       R"({"definitions":{"list":{"anyOf":[{"type":"null"},{"type":"object",
           "properties":{"head":{"type":"boolean"},"tail":{"$ref":"#/definitions/list"}},
           "required":["head","tail"],"additionalProperties":false}]}},
           "$ref":"#/definitions/list"})",
       {"null", R"({"head":true,"tail":null})",
        R"({"head":true,"tail":{"head":false,"tail":null}})", R"({"head":true})",
        R"({"head":true,"tail":{"head":1,"tail":null}})"}},
      {"pattern_anchored",
       R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"})",
       {R"("AB-123")", R"("AB-1234")", R"("ab-123")", R"("A-123")", R"("XAB-123")"}},
      {"pattern_unanchored_alternation",
       R"({"type":"string","pattern":"ab+c|^(cat|dog)s?$|9"})",
       {R"("xxabbbcyy")", R"("abc")", R"("cats")", R"("dog")", R"("ac")", R"("cow")", R"("xcat")"}},
      {"pattern_escapes",
       R"({"type":"string","pattern":"^a\"b\\\\c\\.[^x]{2}(?:z|\\n)$"})",
       {R"("a\"b\\c.yyz")", "\"a\\\"b\\\\c.\xC3\xA9!\\n\"", R"("a\"b\\c.xyz")", R"("a\"bc.yyz")",
        R"("a\"b\\cXyyz")"}},
      {"formats",
       R"({"type":"object","properties":{"d":{"type":"string","format":"date"},
           "t":{"type":"string","format":"time"},"dt":{"type":"string","format":"date-time"},
           "u":{"type":"string","format":"uuid"}},"additionalProperties":false})",
       {R"({"d":"2024-02-29"})", R"({"d":"2000-02-29"})", R"({"d":"0004-02-29"})",
        R"({"t":"23:59:59Z"})", R"({"dt":"2023-12-31T00:00:00.5+05:30"})",
        R"({"u":"123e4567-e89b-12d3-a456-426614174000"})", R"({"d":"2023-02-29"})",
        R"({"d":"1900-02-29"})", R"({"d":"2024-13-01"})", R"({"d":"2024-04-31"})",
        R"({"t":"24:00:00Z"})", R"({"t":"12:00:00"})",
        R"({"u":"123e4567e89b12d3a456426614174000"})"}},
      {"type_list_non_negative_number",
       R"({"type":["number","null"],"minimum":0})",
       {"0", "1.5", "2e3", "0.25E-2", "null", "-1", "-0.5", R"("1")"}},
      {"integer_range",
       R"({"type":"integer","minimum":-15,"maximum":1234})",
       {"-15", "-1", "0", "9", "10", "999", "1000", "1234", "-16", "1235", "12345", "1.5"}},
      {"integer_exclusive",
       R"({"type":"integer","exclusiveMinimum":5,"exclusiveMaximum":100})",
       {"6", "99", "5", "100", "-7"}},
      {"string_length_counts_characters",
       R"({"type":"string","minLength":2,"maxLength":2})",
       {R"("\u00e9a")", R"("ab")", "\"\xC3\xA9\xE2\x82\xAC\"", R"("\n\t")", R"("abc")", R"("a")",
        R"("\u00e9ab")"}},
      {"empty_schema_any_value",
       R"({})",
       {"1", R"({"a":[true,null,{"b":"c"}]})", R"("x")", "[]", "{,}"}},
  };
  return kCases;
}

std::shared_ptr<const CompiledGrammar> CompileSchema(const char* schema) {
  auto compiled = CompiledGrammar::FromJsonSchema(schema, ByteVocabulary());
  EXPECT_TRUE(compiled.ok()) << compiled.message() << "\n" << schema;
  return compiled.ok() ? *compiled : nullptr;
}

TEST(JsonSchemaTest, GrammarAgreesWithIndependentValidator) {
  std::vector<ValidationCase> requests;
  for (const SchemaCase& c : Cases()) {
    requests.push_back({nlohmann::json::parse(c.schema), "", c.documents});
  }
  const auto verdicts = testing::Validate(requests);
  for (size_t k = 0; k < Cases().size(); ++k) {
    const SchemaCase& c = Cases()[k];
    auto grammar = CompileSchema(c.schema);
    ASSERT_NE(grammar, nullptr);
    ASSERT_EQ(verdicts[k].size(), c.documents.size());
    int valid = 0;
    for (size_t d = 0; d < c.documents.size(); ++d) {
      valid += verdicts[k][d] ? 1 : 0;
      EXPECT_EQ(Matches(grammar, c.documents[d]), verdicts[k][d])
          << c.name << ": " << c.documents[d] << " (validator: " << verdicts[k][d] << ")";
    }
    // Every case checks both directions.
    EXPECT_GT(valid, 0) << c.name;
    EXPECT_LT(valid, static_cast<int>(c.documents.size())) << c.name;
  }
}

TEST(JsonSchemaTest, RandomDocumentsFromTheGrammarAreValid) {
  std::mt19937 rng(7);
  std::vector<ValidationCase> requests;
  for (const SchemaCase& c : Cases()) {
    auto grammar = CompileSchema(c.schema);
    ASSERT_NE(grammar, nullptr);
    ValidationCase request{nlohmann::json::parse(c.schema), "", {}};
    for (int attempt = 0; attempt < 200 && request.documents.size() < 25; ++attempt) {
      const std::string doc = testing::RandomDocument(grammar, rng, 300);
      if (!doc.empty()) request.documents.push_back(doc);
    }
    EXPECT_GE(request.documents.size(), 10u) << c.name;
    requests.push_back(std::move(request));
  }
  const auto verdicts = testing::Validate(requests);
  for (size_t k = 0; k < requests.size(); ++k) {
    for (size_t d = 0; d < requests[k].documents.size(); ++d) {
      EXPECT_TRUE(verdicts[k][d]) << Cases()[k].name << ": " << requests[k].documents[d];
    }
  }
}

TEST(JsonSchemaTest, DocumentsTheGrammarLeavesOutOnPurpose) {
  // Valid for the schema but outside the grammar, as docs/STRUCTURED.md says: properties in
  // declared order, "-0", integers written as 1.0, whitespace runs beyond the bound, escapes
  // other than the one canonical form inside strings with a pattern.
  const std::vector<std::pair<const char*, std::string>> cases = {
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"}}})",
       R"({"b":1,"a":2})"},
      {R"({"type":"integer"})", "-0"},
      {R"({"type":"integer"})", "1.0"},
      {R"({"type":"array"})", "[" + std::string(30, ' ') + "]"},
      {R"({"type":"string","pattern":"^a$"})", R"("\u0061")"},
  };
  std::vector<ValidationCase> requests;
  for (const auto& [schema, doc] : cases)
    requests.push_back({nlohmann::json::parse(schema), "", {doc}});
  const auto verdicts = testing::Validate(requests);
  for (size_t k = 0; k < cases.size(); ++k) {
    EXPECT_TRUE(verdicts[k][0]) << cases[k].second;
    EXPECT_FALSE(Matches(CompileSchema(cases[k].first), cases[k].second)) << cases[k].second;
  }
}

std::string SchemaError(const char* schema) {
  auto gbnf = JsonSchemaToGbnf(schema);
  EXPECT_FALSE(gbnf.ok()) << schema;
  return gbnf.ok() ? "" : gbnf.message();
}

TEST(JsonSchemaTest, UnsupportedKeywordsAreErrorsNamingThem) {
  EXPECT_EQ(SchemaError(R"({"type":"integer","multipleOf":3})"),
            "[json-schema] at /: unsupported keyword 'multipleOf' (see docs/STRUCTURED.md for "
            "what is supported)");
  EXPECT_EQ(
      SchemaError(R"({"type":"object","properties":{"tags":{"type":"array","uniqueItems":true}}})"),
      "[json-schema] at /properties/tags: unsupported keyword 'uniqueItems' (see "
      "docs/STRUCTURED.md for what is supported)");
  EXPECT_EQ(
      SchemaError(R"({"type":"string","format":"email"})"),
      "[json-schema] at /: format 'email' is not supported (date, time, date-time, uuid are)");
  EXPECT_EQ(SchemaError(R"({"oneOf":[{"type":"integer"},{"type":"number"}]})"),
            "[json-schema] at /: oneOf branches 0 and 1 may both match a document, which a grammar "
            "cannot exclude: use anyOf, or give the branches different types or a property with "
            "different const values");
  EXPECT_EQ(SchemaError(R"({"$ref":"other.json#/x"})"),
            "[json-schema] at /$ref: only references inside the schema ('#/$defs/…') are "
            "supported, not 'other.json#/x'");
  EXPECT_EQ(SchemaError(R"({"$ref":"#/$defs/missing"})"),
            "[json-schema] at /$ref: '$ref' target #/$defs/missing does not exist");
  EXPECT_EQ(SchemaError(R"({"type":"number","maximum":3.5})"),
            "[json-schema] at /: 'maximum' on a non-integer number is not supported (only "
            "minimum: 0; use type integer for other bounds)");
  EXPECT_EQ(
      SchemaError(
          R"({"allOf":[{"properties":{"a":{"type":"integer"}}},{"properties":{"a":{"type":"string"}}}]})"),
      "[json-schema] at /: allOf: property 'a' is constrained by two different subschemas, "
      "which cannot be merged");
  EXPECT_EQ(SchemaError(R"({"type":"strin"})"), "[json-schema] at /: unknown type 'strin'");
  EXPECT_EQ(SchemaError(R"({"type":"string","pattern":"(?=a)b"})"),
            "[json-schema] at /: [json-schema] pattern \"(?=a)b\" at offset 2: only (?:…) groups "
            "are supported (no lookaround, named groups or flags)");
  EXPECT_EQ(SchemaError("{\"type\": "), SchemaError("{\"type\": "));
  EXPECT_NE(SchemaError("{\"type\": ").find("[json-schema] not valid JSON"), std::string::npos);
  EXPECT_EQ(SchemaError("false"), "[json-schema] at /: the schema `false` matches nothing");
}

// Beside additional properties, a declared name is spelled out a character a level deep in the
// grammar: names up to the bound compile, longer ones are refused with the fix named; with no
// additional properties, any length compiles.
TEST(JsonSchemaTest, LongPropertyNames) {
  const auto schema = [](size_t name_chars, bool closed) {
    return R"({"type":"object","properties":{")" + std::string(name_chars, 'k') +
           R"(":{"type":"integer"}})" + (closed ? R"(,"additionalProperties":false})" : "}");
  };
  const auto at_bound = CompiledGrammar::FromJsonSchema(schema(100, false), ByteVocabulary());
  EXPECT_TRUE(at_bound.ok()) << at_bound.message();
  EXPECT_EQ(SchemaError(schema(101, false).c_str()),
            "[json-schema] at /: a property name over 100 characters needs "
            "\"additionalProperties\": false");
  EXPECT_EQ(SchemaError(schema(300000, false).c_str()), SchemaError(schema(101, false).c_str()));
  const auto closed = CompiledGrammar::FromJsonSchema(schema(300000, true), ByteVocabulary());
  EXPECT_TRUE(closed.ok()) << closed.message();
}

TEST(JsonSchemaTest, AnyJsonGrammar) {
  auto compiled = CompiledGrammar::AnyJson(ByteVocabulary());
  ASSERT_TRUE(compiled.ok()) << compiled.message();
  for (const char* doc : {"1", "-0.5e10", "\"\\u00e9\"", "[]", "{}", " {\"a\": [1, {\"b\": null}]}",
                          "[[[[[[[[[[true]]]]]]]]]]"}) {
    EXPECT_TRUE(Matches(*compiled, doc)) << doc;
  }
  for (const char* doc : {"", "{", "[1,]", "{\"a\"}", "tru", "01", "\"\\x\"", "{'a': 1}"}) {
    EXPECT_FALSE(Matches(*compiled, doc)) << doc;
  }
}

}  // namespace
}  // namespace anser
