// The engine's user-facing advice and diagnosis as templates with named values, so that one
// renderer gives the engine's English and the studio's translation of the same words.
//
// A Text names a template by id ("diagnosis.bn-problem") and fills its placeholders:
//   {name}                a value, already formatted ("0.42", "model.22.cv3.0.1.bn")
//   {name|one|other}      a count and its noun: "1 image", "4 images" (English needs the plural;
//                         a translation may drop it, as Chinese does)
//   {slot}                a nested Text (a clause), or nothing when the clause is absent
// The English templates are in engine_text.cpp, marked for the studio's lupdate (context
// "EngineText"), so translators see the very strings the engine prints.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncbn {

// Marks an English template for lupdate, which is told to read it as QT_TRANSLATE_NOOP
// (app/CMakeLists.txt): core stays free of Qt, and its texts still reach the .ts files.
#define SYNCBN_ENGINE_TEXT(context, text) text

struct Text {
  Text() = default;
  Text(std::string id, std::map<std::string, std::string> values = {}, std::vector<Text> parts = {})
      : id(std::move(id)), values(std::move(values)), parts(std::move(parts)) {}

  std::string id;    // the template's id; empty: no text
  std::string slot;  // the placeholder this Text fills in its parent (see clause); empty at the top
  std::map<std::string, std::string> values;
  std::vector<Text> parts;
  bool empty() const { return id.empty(); }
  bool operator==(const Text&) const = default;
};

// A clause for `slot` of a parent Text.
Text clause(std::string slot, Text text);

// The English template of `id`; empty when there is no such template.
std::string_view englishTemplate(std::string_view id);
// Every template id, for the checks that each is translated.
std::vector<std::string_view> templateIds();

// The template for an id in some language; an empty answer falls back to English.
using Catalogue = std::function<std::string(std::string_view id)>;
// `text` in the catalogue's language (UTF-8); English without a catalogue.
std::string render(const Text& text, const Catalogue& catalogue = {});

}  // namespace syncbn
