// The counters a stateful part of training saves in checkpoints and restores on resume, after
// Detectron2's hook state_dict(): each part (the loop, a hook) writes and reads its own keys, so
// adding a counter touches that part alone. Torch-free; the checkpoint file stores it as a
// dictionary of the same keys.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace syncbn::train {

using StateValue = std::variant<bool, std::int64_t, double, std::string, std::vector<double>>;

// A key the reader needs is missing or of another type; what() names the key.
class StateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StateDict {
 public:
  void set(const std::string& key, StateValue value) { values_[key] = std::move(value); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, StateValue>& values() const { return values_; }
  bool operator==(const StateDict&) const = default;

  // The value of `key` as T; throws StateError when it is missing or holds another type.
  template <typename T>
  const T& get(const std::string& key) const {
    const auto found = values_.find(key);
    if (found == values_.end()) throw StateError("'" + key + "' is missing");
    const T* value = std::get_if<T>(&found->second);
    if (value == nullptr) throw StateError("'" + key + "' is " + typeName(found->second));
    return *value;
  }
  // get<std::int64_t> narrowed to int, refused when out of range.
  int getInt(const std::string& key) const {
    const std::int64_t value = get<std::int64_t>(key);
    if (value < INT32_MIN || value > INT32_MAX) throw StateError("'" + key + "' is out of range");
    return static_cast<int>(value);
  }
  // The value, or `fallback` when the key is absent (a counter added after older checkpoints).
  template <typename T>
  T getOr(const std::string& key, T fallback) const {
    return has(key) ? get<T>(key) : fallback;
  }

 private:
  static std::string typeName(const StateValue& value) {
    static const char* const kNames[] = {"a boolean", "an integer", "a number", "a string",
                                         "a list of numbers"};
    return std::string("not of the expected type (it holds ") + kNames[value.index()] + ")";
  }
  std::map<std::string, StateValue> values_;
};

}  // namespace syncbn::train
