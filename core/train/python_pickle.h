// Reading a Python pickle (the data.pkl inside a torch.save file) without Python, as plain data:
// Python's None, bools, ints, floats, strings, bytes, lists, tuples and dicts, and every object
// of a class as a record of its class's qualified name, the arguments it was made with and the
// state set on it. Nothing is executed and no class is looked up: a pickle names classes and
// functions, and here they stay names.
//
// Written by hand because LibTorch's Unpickler cannot read these files. It knows the classes
// TorchScript writes and rejects or rewrites the rest: `collections.OrderedDict` is replaced
// by None, so the SETITEMS that fill every module's `_parameters`, `_buffers` and `_modules`
// fail ("Expected GenericDict but got None"), and it never sees the objects of classes it does
// not know as records. Python's own pickletools.py is the specification followed here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncbn::train::pickle {

struct Value;

// A pickle's values, owned by the document that read them. Values refer to each other by plain
// pointer: a pickle's memo can make a value appear twice, or inside itself, and an arena frees
// such graphs without recursion.
class Document;

enum class Kind {
  None,
  Bool,
  Int,
  Float,
  String,  // str (UTF-8)
  Bytes,   // bytes, bytearray, Python 2 str
  List,    // list; also set and frozenset
  Tuple,
  Dict,          // dict, and collections.OrderedDict
  Global,        // a class or function named by GLOBAL: text is "module.name"
  Object,        // an object made by calling or instantiating a Global (REDUCE, NEWOBJ, INST)
  PersistentId,  // a reference outside the pickle (torch: a tensor storage); args holds the id
};

struct Value {
  Kind kind = Kind::None;
  bool boolean = false;
  std::int64_t integer = 0;
  double number = 0;
  std::string text;                                            // String, Bytes, Global
  std::vector<const Value*> items;                             // List, Tuple
  std::vector<std::pair<const Value*, const Value*>> entries;  // Dict; an Object's SETITEMs
  // Object: `type` is the Global called, `args` the arguments (a Tuple), `state` what BUILD set
  // (usually the Dict of its attributes), `items` what APPEND added. PersistentId: `args`.
  const Value* type = nullptr;
  const Value* args = nullptr;
  const Value* state = nullptr;

  // The class or function name of an Object ("ultralytics.nn.tasks.DetectionModel"), else "".
  std::string className() const;
  // Dict (or an Object's SETITEMs) lookup by string key, the last entry of that key as in
  // Python; nullptr when absent or not a Dict.
  const Value* get(std::string_view key) const;
  bool isNone() const { return kind == Kind::None; }
};

// Why a pickle could not be read, with the byte offset of the opcode at fault.
class PickleError : public std::runtime_error {
 public:
  PickleError(std::size_t offset, const std::string& reason);
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

class Document {
 public:
  Document();
  ~Document();
  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;

  const Value& root() const { return *root_; }
  // Values made; bounded by the pickle's size (no opcode makes more than one).
  std::size_t valueCount() const { return values_.size(); }

 private:
  friend class Machine;
  Value* make(Kind kind);

  std::vector<std::unique_ptr<Value>> values_;
  const Value* root_ = nullptr;
};

// Runs the pickle machine over `bytes` (protocols 0 to 5, without out-of-band buffers and the
// extension registry). Throws PickleError for a truncated or malformed stream, an unsupported
// opcode, or an integer wider than 64 bits.
Document readPickle(std::string_view bytes);

// The Python-like text of a value for messages, cut at about `maxChars`.
std::string describe(const Value& value, std::size_t maxChars = 80);

}  // namespace syncbn::train::pickle
