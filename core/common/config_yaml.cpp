#include "common/config_yaml.h"

#include <yaml-cpp/yaml.h>

#include <sstream>

#include "common/atomic_file.h"
#include "common/config_schema.h"
#include "common/regular_file.h"
#include "common/yaml_error.h"

namespace syncbn {
namespace {

constexpr std::uintmax_t kMaxConfigBytes = 4u << 20;  // far above any real config

int lineOf(const YAML::Node& node) {
  return node.Mark().is_null() ? 0 : node.Mark().line + 1;
}

std::string didYouMean(std::string_view unknown) {
  const auto suggestions = suggestFields(unknown);
  if (suggestions.empty()) return {};
  std::string out = "; did you mean ";
  for (std::size_t i = 0; i < suggestions.size(); ++i)
    out += (i ? (i + 1 == suggestions.size() ? " or " : ", ") : "") + suggestions[i];
  return out + "?";
}

class YamlReader {
 public:
  YamlReader(LoadedConfig& out, std::string_view source) : out_(out), source_(source) {}

  void readRoot(const YAML::Node& root) {
    if (!root || root.IsNull()) return;  // empty file: all defaults
    if (!root.IsMap()) return error("", lineOf(root), "expected a mapping of sections to settings");
    for (const auto& entry : root) {
      const std::string key = entry.first.Scalar();
      const int line = lineOf(entry.first);
      if (isSection(key)) {
        readSection(key, entry.second);
      } else if (const FieldSpec* spec = findField(key);
                 spec && key.find('.') == std::string::npos) {
        readField(*spec, entry.second, line);  // flat, Ultralytics-style key
      } else {
        error(key, line, "unknown key" + didYouMean(key));
      }
    }
  }

 private:
  static bool isSection(std::string_view key) {
    for (const auto s : configSections())
      if (s == key) return true;
    return false;
  }

  void readSection(const std::string& section, const YAML::Node& node) {
    if (node.IsNull()) return;
    if (!node.IsMap()) return error(section, lineOf(node), "expected a mapping of settings");
    for (const auto& entry : node) {
      const std::string path = section + "." + entry.first.Scalar();
      const FieldSpec* spec = findField(path);
      if (!spec || spec->section != section) {
        error(path, lineOf(entry.first), "unknown key" + didYouMean(path));
        continue;
      }
      readField(*spec, entry.second, lineOf(entry.first));
    }
  }

  void readField(const FieldSpec& spec, const YAML::Node& node, int line) {
    const std::string path = spec.path();
    if (const auto it = out_.locations.find(path); it != out_.locations.end())
      return error(path, line, "set twice (first on line " + std::to_string(it->second.line) + ")");
    out_.locations[path] = {source_, line};
    if (!node.IsScalar() && !(node.IsNull() && spec.type == FieldType::String))
      return error(path, line, node.IsNull() ? "has no value" : "expected a single value");
    const auto parsed = parseFieldValue(spec, node.IsNull() ? "" : node.Scalar());
    if (const auto* reason = std::get_if<std::string>(&parsed)) return error(path, line, *reason);
    spec.set(out_.config, std::get<FieldValue>(parsed));
  }

  void error(const std::string& field, int line, std::string message) {
    out_.diagnostics.push_back({Severity::Error, field, std::move(message), {}, source_, line, {}});
  }

  LoadedConfig& out_;
  std::string source_;
};

}  // namespace

LoadedConfig parseConfigYaml(std::string_view text, std::string_view sourceName) {
  LoadedConfig out;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    YamlReader(out, sourceName).readRoot(root);
  } catch (const YAML::Exception& e) {
    out.diagnostics.push_back({Severity::Error,
                               "",
                               "YAML syntax: " + yamlErrorText(e),
                               {},
                               std::string(sourceName),
                               e.mark.is_null() ? 0 : e.mark.line + 1,
                               {}});
  }
  return out;
}

LoadedConfig loadConfigFile(const std::filesystem::path& path) {
  const auto fail = [&](std::string message) {
    LoadedConfig out;
    out.diagnostics.push_back({Severity::Error, "", std::move(message), {}, path.string(), 0, {}});
    return out;
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail("file not found");
  std::string error;
  const auto text = tryReadRegularFile(path, kMaxConfigBytes, error);
  if (!text) return fail(error);
  return parseConfigYaml(*text, path.string());
}

void applyOverrides(LoadedConfig& loaded, const std::vector<std::string>& arguments) {
  const auto error = [&](std::string field, std::string message) {
    loaded.diagnostics.push_back(
        {Severity::Error, std::move(field), std::move(message), {}, "command line", 0, {}});
  };
  for (const auto& argument : arguments) {
    const auto equals = argument.find('=');
    if (equals == std::string::npos || equals == 0) {
      error("", "expected key=value, got '" + argument + "'");
      continue;
    }
    const std::string key = argument.substr(0, equals);
    const FieldSpec* spec = findField(key);
    if (!spec) {
      error(key, "unknown key" + didYouMean(key));
      continue;
    }
    const auto parsed = parseFieldValue(*spec, std::string_view(argument).substr(equals + 1));
    if (const auto* reason = std::get_if<std::string>(&parsed)) {
      error(spec->path(), *reason);
      continue;
    }
    spec->set(loaded.config, std::get<FieldValue>(parsed));
    loaded.locations[spec->path()] = {"command line", 0};
  }
}

std::string toYaml(const Config& config) {
  YAML::Emitter out;
  out << YAML::Comment("SyncBN Studio configuration; check with: syncbn-engine check-config FILE");
  out << YAML::Newline << YAML::BeginMap;
  for (const auto section : configSections()) {
    out << YAML::Key << std::string(section) << YAML::Value << YAML::BeginMap;
    for (const auto& spec : configFields()) {
      if (spec.section != section) continue;
      out << YAML::Key << std::string(spec.key) << YAML::Value << formatFieldValue(spec.get(config))
          << YAML::Comment(std::string(spec.help));
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::Newline;
  return out.c_str();
}

void saveConfigFile(const Config& config, const std::filesystem::path& path) {
  writeFileAtomically(path, toYaml(config));
}

void attachLocations(Diagnostics& diagnostics,
                     const std::map<std::string, SourceLocation>& locations) {
  for (auto& d : diagnostics) {
    if (!d.source.empty() || d.field.empty()) continue;
    if (const auto it = locations.find(d.field); it != locations.end()) {
      d.source = it->second.source;
      d.line = it->second.line;
    }
  }
}

}  // namespace syncbn
