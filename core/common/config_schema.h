// The field table behind Config: one entry per user-settable key, with its type, range, help
// text and accessors. YAML load/save, command-line overrides, validation and the GUI's forms
// are all driven by this table, so a key is added in exactly one place.
#pragma once

#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/config.h"

namespace syncbn {

enum class FieldType { Int, Float, Bool, String, Choice };

// A field's value; Choice fields hold their canonical spelling as a string.
using FieldValue = std::variant<long long, double, bool, std::string>;

struct FieldSpec {
  std::string_view section;  // "train"
  std::string_view key;      // "epochs"; unique across sections, so "epochs=50" is unambiguous
  FieldType type = FieldType::String;
  std::string_view help;
  double min = -std::numeric_limits<double>::infinity();  // inclusive, Int/Float only
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string_view> choices;  // Choice only, canonical spellings
  std::function<FieldValue(const Config&)> get;
  std::function<void(Config&, const FieldValue&)> set;

  std::string path() const;  // "train.epochs"
};

// Every field, grouped by section in the order sections appear in a saved file.
const std::vector<FieldSpec>& configFields();
const std::vector<std::string_view>& configSections();

// Looks a field up by dotted path ("train.epochs") or bare key ("epochs"); nullptr if unknown.
const FieldSpec* findField(std::string_view pathOrKey);

// Known paths close to an unknown one (edit distance), best first, for "did you mean".
std::vector<std::string> suggestFields(std::string_view unknown);

// Parses user text (a YAML scalar or a command-line value) as a value of the field's type.
// Returns the value, or a reason it is not one ("expected an integer, got '1.5'").
std::variant<FieldValue, std::string> parseFieldValue(const FieldSpec& spec, std::string_view text);

// The text parseFieldValue reads back to the same value (shortest round-trip for floats).
std::string formatFieldValue(const FieldValue& value);

// The range check of one value against its spec; empty when in range.
std::string checkFieldRange(const FieldSpec& spec, const FieldValue& value);

}  // namespace syncbn
