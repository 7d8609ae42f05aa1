#include "train/python_pickle.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace syncbn::train::pickle {

PickleError::PickleError(std::size_t offset, const std::string& reason)
    : std::runtime_error("pickle byte " + std::to_string(offset) + ": " + reason),
      offset_(offset) {}

std::string Value::className() const {
  if (kind != Kind::Object || type == nullptr) return "";
  return type->text;
}

const Value* Value::get(std::string_view key) const {
  if (kind != Kind::Dict && kind != Kind::Object) return nullptr;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (it->first->kind == Kind::String && it->first->text == key) return it->second;
  return nullptr;
}

Document::Document() = default;
Document::~Document() = default;
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;

Value* Document::make(Kind kind) {
  values_.push_back(std::make_unique<Value>());
  values_.back()->kind = kind;
  return values_.back().get();
}

// The pickle virtual machine of pickletools.py: a stack with marks, and a memo.
class Machine {
 public:
  explicit Machine(std::string_view bytes) : bytes_(bytes) {}

  Document run() {
    while (true) {
      opStart_ = pos_;
      const auto op = static_cast<unsigned char>(take(1)[0]);
      if (op == '.') break;  // STOP
      step(op);
    }
    if (stack_.size() != 1 || !marks_.empty())
      fail("the pickle ends with " + std::to_string(stack_.size()) + " values on its stack");
    document_.root_ = stack_.back();
    return std::move(document_);
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const { throw PickleError(opStart_, reason); }

  std::string_view take(std::size_t n) {
    if (n > bytes_.size() - pos_) fail("the pickle is truncated");
    const std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::uint64_t littleEndian(std::size_t n) {
    const std::string_view b = take(n);
    std::uint64_t value = 0;
    for (std::size_t i = n; i-- > 0;)
      value = (value << 8) | static_cast<unsigned char>(b[i]);
    return value;
  }
  std::string_view line() {
    const std::size_t end = bytes_.find('\n', pos_);
    if (end == std::string_view::npos) fail("the pickle is truncated (no end of line)");
    const std::string_view out = bytes_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  std::size_t length(std::size_t n) {
    const std::uint64_t size = littleEndian(n);
    if (size > bytes_.size() - pos_) fail("the pickle is truncated");
    return static_cast<std::size_t>(size);
  }

  Value* make(Kind kind) { return document_.make(kind); }
  Value* makeInt(std::int64_t v) {
    Value* value = make(Kind::Int);
    value->integer = v;
    return value;
  }
  Value* makeText(Kind kind, std::string_view text) {
    Value* value = make(kind);
    value->text = std::string(text);
    return value;
  }

  void push(const Value* value) { stack_.push_back(value); }
  const Value* pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back()))
      fail("the stack is empty");
    const Value* value = stack_.back();
    stack_.pop_back();
    return value;
  }
  const Value*& top() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back()))
      fail("the stack is empty");
    return stack_.back();
  }
  // The values pushed since the last MARK, which is removed.
  std::vector<const Value*> popMark() {
    if (marks_.empty()) fail("no MARK to pop to");
    const std::size_t start = marks_.back();
    marks_.pop_back();
    std::vector<const Value*> out(stack_.begin() + static_cast<std::ptrdiff_t>(start),
                                  stack_.end());
    stack_.resize(start);
    return out;
  }
  // Containers are filled in place: every reference to one (the memo's too) sees the items.
  Value* mutableTop(std::initializer_list<Kind> kinds) {
    const Value* value = top();
    for (Kind kind : kinds)
      if (value->kind == kind) return const_cast<Value*>(value);
    fail("cannot add items to " + describe(*value, 40));
  }

  const Value* memoGet(std::uint64_t index) {
    if (index >= memo_.size() || memo_[index] == nullptr)
      fail("memo entry " + std::to_string(index) + " was never stored");
    return memo_[index];
  }
  void memoPut(std::uint64_t index) {
    // A memo index beyond what this many opcodes could have stored is a corrupt stream, not a
    // reason to allocate gigabytes.
    if (index > bytes_.size()) fail("memo index " + std::to_string(index) + " is out of range");
    if (index >= memo_.size()) memo_.resize(static_cast<std::size_t>(index) + 1, nullptr);
    memo_[index] = top();
  }

  const Value* makeTuple(std::vector<const Value*> items) {
    Value* tuple = make(Kind::Tuple);
    tuple->items = std::move(items);
    return tuple;
  }
  // Entries are kept in order, duplicates too: get() finds the last, as Python's dict keeps the
  // last value of a key (no checkpoint repeats one, and scanning for them would be quadratic).
  void addEntries(Value* target, const std::vector<const Value*>& flat) {
    if (flat.size() % 2 != 0) fail("SETITEMS with an odd number of values");
    for (std::size_t i = 0; i < flat.size(); i += 2)
      target->entries.emplace_back(flat[i], flat[i + 1]);
  }

  // Calls that copy a container (set(list), OrderedDict(pairs)) could copy one huge list again
  // and again, a few bytes each time: the copies are bounded by the pickle's size.
  void spend(std::size_t copied) {
    copied_ += copied;
    if (copied_ > 4 * bytes_.size() + 1024) fail("the pickle copies more values than it holds");
  }

  // The bytes whose Latin-1 decoding is `utf8` (code points 0..255, as UTF-8).
  std::string latin1(const std::string& utf8) {
    std::string out;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
      const auto c = static_cast<unsigned char>(utf8[i]);
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if ((c == 0xc2 || c == 0xc3) && i + 1 < utf8.size()) {
        out +=
            static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3f));
      } else {
        fail("_codecs.encode of a character beyond Latin-1");
      }
    }
    return out;
  }

  // What calling `callable` with `args` makes. The few calls whose result is plain data become
  // it; every other call is recorded as an Object.
  const Value* call(const Value* callable, const Value* args) {
    if (args->kind != Kind::Tuple) fail("the arguments of a call must be a tuple");
    const std::string name = callable->kind == Kind::Global ? callable->text : "";
    if (name == "collections.OrderedDict" && args->items.size() <= 1) {
      Value* dict = make(Kind::Dict);
      if (!args->items.empty()) {  // OrderedDict([(key, value), ...])
        spend(args->items[0]->items.size());
        for (const Value* pair : args->items[0]->items) {
          if (pair->kind != Kind::Tuple && pair->kind != Kind::List)
            fail("OrderedDict() of " + describe(*pair, 40));
          if (pair->items.size() != 2) fail("OrderedDict() of " + describe(*pair, 40));
          dict->entries.emplace_back(pair->items[0], pair->items[1]);
        }
      }
      return dict;
    }
    if ((name == "builtins.set" || name == "__builtin__.set" || name == "builtins.frozenset") &&
        args->items.size() <= 1) {
      Value* set = make(Kind::List);
      if (!args->items.empty()) {
        const Value* source = args->items[0];
        if (source->kind != Kind::List && source->kind != Kind::Tuple)
          fail("set() of " + describe(*source, 40));
        spend(source->items.size());
        set->items = source->items;
      }
      return set;
    }
    // Protocol 2 writes bytes as _codecs.encode(text, 'latin1'): each character one byte.
    if (name == "_codecs.encode" && args->items.size() == 2 &&
        args->items[0]->kind == Kind::String) {
      Value* bytes = make(Kind::Bytes);
      bytes->text = latin1(args->items[0]->text);
      return bytes;
    }
    if (callable->kind != Kind::Global && callable->kind != Kind::Object)
      fail("cannot call " + describe(*callable, 40));
    Value* object = make(Kind::Object);
    object->type = callable->kind == Kind::Global ? callable : callable->type;
    object->args = args;
    return object;
  }

  void step(unsigned char op) {
    switch (op) {
      case 0x80:  // PROTO
        if (static_cast<unsigned char>(take(1)[0]) > 5) fail("pickle protocol above 5");
        return;
      case 0x95:  // FRAME: framing only groups opcodes
        littleEndian(8);
        return;
      case '(':  // MARK
        marks_.push_back(stack_.size());
        return;
      case '0':  // POP
        pop();
        return;
      case '1':  // POP_MARK
        popMark();
        return;
      case '2':  // DUP
        push(top());
        return;
      case 'N':
        push(make(Kind::None));
        return;
      case 0x88:  // NEWTRUE
      case 0x89: {
        Value* value = make(Kind::Bool);
        value->boolean = op == 0x88;
        push(value);
        return;
      }
      case 'J':  // BININT
        push(makeInt(static_cast<std::int32_t>(littleEndian(4))));
        return;
      case 'K':  // BININT1
        push(makeInt(static_cast<std::int64_t>(littleEndian(1))));
        return;
      case 'M':  // BININT2
        push(makeInt(static_cast<std::int64_t>(littleEndian(2))));
        return;
      case 0x8a:    // LONG1
      case 0x8b: {  // LONG4
        const std::size_t n = length(op == 0x8a ? 1 : 4);
        if (n > 8) fail("an integer wider than 64 bits");
        std::uint64_t raw = n == 0 ? 0 : littleEndian(n);
        if (n > 0 && n < 8 && (raw >> (8 * n - 1)) != 0) raw |= ~0ull << (8 * n);  // sign
        push(makeInt(static_cast<std::int64_t>(raw)));
        return;
      }
      case 'I':    // INT (text; "00" and "01" are False and True)
      case 'L': {  // LONG (text, with a trailing L)
        std::string text(line());
        if (op == 'I' && (text == "00" || text == "01")) {
          Value* value = make(Kind::Bool);
          value->boolean = text == "01";
          push(value);
          return;
        }
        if (!text.empty() && text.back() == 'L') text.pop_back();
        try {
          std::size_t used = 0;
          const long long v = std::stoll(text, &used);
          if (used != text.size()) throw std::invalid_argument(text);
          push(makeInt(v));
        } catch (const std::exception&) {
          fail("not a 64-bit integer: '" + text + "'");
        }
        return;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        const std::string_view b = take(8);
        std::uint64_t raw = 0;
        for (char c : b)
          raw = (raw << 8) | static_cast<unsigned char>(c);
        Value* value = make(Kind::Float);
        std::memcpy(&value->number, &raw, sizeof raw);
        push(value);
        return;
      }
      case 'F': {  // FLOAT (text)
        const std::string text(line());
        Value* value = make(Kind::Float);
        std::istringstream in(text);
        in.imbue(std::locale::classic());
        if (!(in >> value->number)) fail("not a float: '" + text + "'");
        push(value);
        return;
      }
      case 'X':  // BINUNICODE
        push(makeText(Kind::String, take(length(4))));
        return;
      case 0x8c:  // SHORT_BINUNICODE
        push(makeText(Kind::String, take(length(1))));
        return;
      case 0x8d:  // BINUNICODE8
        push(makeText(Kind::String, take(length(8))));
        return;
      case 'V':  // UNICODE (raw-unicode-escape; the ASCII subset is all a checkpoint holds)
        push(makeText(Kind::String, line()));
        return;
      case 'T':  // BINSTRING
        push(makeText(Kind::Bytes, take(length(4))));
        return;
      case 'U':  // SHORT_BINSTRING
        push(makeText(Kind::Bytes, take(length(1))));
        return;
      case 'B':  // BINBYTES
        push(makeText(Kind::Bytes, take(length(4))));
        return;
      case 'C':  // SHORT_BINBYTES
        push(makeText(Kind::Bytes, take(length(1))));
        return;
      case 0x8e:  // BINBYTES8
      case 0x96:  // BYTEARRAY8
        push(makeText(Kind::Bytes, take(length(8))));
        return;
      case 'S': {  // STRING (a quoted repr)
        std::string_view text = line();
        if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') &&
            text.back() == text.front())
          text = text.substr(1, text.size() - 2);
        push(makeText(Kind::Bytes, text));
        return;
      }
      case ')':  // EMPTY_TUPLE
        push(makeTuple({}));
        return;
      case 't':  // TUPLE
        push(makeTuple(popMark()));
        return;
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        const std::size_t n = op - 0x84u;
        std::vector<const Value*> items(n);
        for (std::size_t i = n; i-- > 0;)
          items[i] = pop();
        push(makeTuple(std::move(items)));
        return;
      }
      case ']':  // EMPTY_LIST
        push(make(Kind::List));
        return;
      case 'l': {  // LIST
        Value* list = make(Kind::List);
        list->items = popMark();
        push(list);
        return;
      }
      case 'a': {  // APPEND
        const Value* item = pop();
        mutableTop({Kind::List, Kind::Object})->items.push_back(item);
        return;
      }
      case 'e': {  // APPENDS
        const std::vector<const Value*> items = popMark();
        Value* list = mutableTop({Kind::List, Kind::Object});
        list->items.insert(list->items.end(), items.begin(), items.end());
        return;
      }
      case 0x8f:  // EMPTY_SET
        push(make(Kind::List));
        return;
      case 0x90: {  // ADDITEMS
        const std::vector<const Value*> items = popMark();
        Value* set = mutableTop({Kind::List});
        set->items.insert(set->items.end(), items.begin(), items.end());
        return;
      }
      case 0x91: {  // FROZENSET
        Value* set = make(Kind::List);
        set->items = popMark();
        push(set);
        return;
      }
      case '}':  // EMPTY_DICT
        push(make(Kind::Dict));
        return;
      case 'd': {  // DICT
        const std::vector<const Value*> flat = popMark();
        Value* dict = make(Kind::Dict);
        addEntries(dict, flat);
        push(dict);
        return;
      }
      case 's': {  // SETITEM
        const Value* value = pop();
        const Value* key = pop();
        addEntries(mutableTop({Kind::Dict, Kind::Object}), {key, value});
        return;
      }
      case 'u': {  // SETITEMS
        const std::vector<const Value*> flat = popMark();
        addEntries(mutableTop({Kind::Dict, Kind::Object}), flat);
        return;
      }
      case 'c': {  // GLOBAL: "module\nname\n"
        const std::string module(line());
        const std::string name(line());
        push(makeText(Kind::Global, module + "." + name));
        return;
      }
      case 0x93: {  // STACK_GLOBAL
        const Value* name = pop();
        const Value* module = pop();
        if (name->kind != Kind::String || module->kind != Kind::String)
          fail("STACK_GLOBAL needs two strings");
        push(makeText(Kind::Global, module->text + "." + name->text));
        return;
      }
      case 'R': {  // REDUCE
        const Value* args = pop();
        const Value* callable = pop();
        push(call(callable, args));
        return;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        const Value* args = pop();
        const Value* cls = pop();
        push(call(cls, args));
        return;
      }
      case 0x92: {  // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
        pop();      // kwargs: no checkpoint class takes any that matter here
        const Value* args = pop();
        const Value* cls = pop();
        push(call(cls, args));
        return;
      }
      case 'i': {  // INST: "module\nname\n", arguments since MARK
        const std::string module(line());
        const std::string name(line());
        const Value* cls = makeText(Kind::Global, module + "." + name);
        push(call(cls, makeTuple(popMark())));
        return;
      }
      case 'o': {  // OBJ: MARK cls args...
        std::vector<const Value*> items = popMark();
        if (items.empty()) fail("OBJ without a class");
        const Value* cls = items.front();
        items.erase(items.begin());
        push(call(cls, makeTuple(std::move(items))));
        return;
      }
      case 'b': {  // BUILD: obj.__setstate__(state), or its __dict__ updated
        const Value* state = pop();
        const Value* target = top();
        if (target->kind == Kind::Object) {
          const_cast<Value*>(target)->state = state;
        } else if (target->kind == Kind::Dict) {
          // An OrderedDict's own attributes (none in practice): its items are what counts.
        } else {
          fail("BUILD on " + describe(*target, 40));
        }
        return;
      }
      case 'P': {  // PERSID (text id)
        Value* reference = make(Kind::PersistentId);
        reference->args = makeText(Kind::String, line());
        push(reference);
        return;
      }
      case 'Q': {  // BINPERSID
        const Value* id = pop();
        Value* reference = make(Kind::PersistentId);
        reference->args = id;
        push(reference);
        return;
      }
      case 'p':  // PUT (text index)
        try {
          memoPut(std::stoull(std::string(line())));
        } catch (const std::invalid_argument&) {
          fail("PUT without an index");
        } catch (const std::out_of_range&) {
          fail("PUT index out of range");
        }
        return;
      case 'q':  // BINPUT
        memoPut(littleEndian(1));
        return;
      case 'r':  // LONG_BINPUT
        memoPut(littleEndian(4));
        return;
      case 0x94:  // MEMOIZE
        memoPut(memo_.size());
        return;
      case 'g':  // GET (text index)
        try {
          push(memoGet(std::stoull(std::string(line()))));
        } catch (const std::invalid_argument&) {
          fail("GET without an index");
        } catch (const std::out_of_range&) {
          fail("GET index out of range");
        }
        return;
      case 'h':  // BINGET
        push(memoGet(littleEndian(1)));
        return;
      case 'j':  // LONG_BINGET
        push(memoGet(littleEndian(4)));
        return;
      default:
        break;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op);
    fail(std::string("unsupported opcode ") + hex +
         " (the extension registry and out-of-band buffers are not read)");
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
  std::size_t opStart_ = 0;
  Document document_;
  std::vector<const Value*> stack_;
  std::vector<std::size_t> marks_;
  std::vector<const Value*> memo_;
  std::size_t copied_ = 0;
};

Document readPickle(std::string_view bytes) {
  return Machine(bytes).run();
}

namespace {

void describeInto(const Value& value, std::string& out, std::size_t maxChars, int depth) {
  if (out.size() > maxChars) return;
  if (depth > 4) {
    out += "...";
    return;
  }
  switch (value.kind) {
    case Kind::None:
      out += "None";
      return;
    case Kind::Bool:
      out += value.boolean ? "True" : "False";
      return;
    case Kind::Int:
      out += std::to_string(value.integer);
      return;
    case Kind::Float: {
      std::ostringstream text;
      text.imbue(std::locale::classic());
      text << value.number;
      out += text.str();
      return;
    }
    case Kind::String:
      // Appended piece by piece: GCC 12 warns falsely about concatenated temporaries here.
      out += '\'';
      out.append(value.text, 0, maxChars);
      out += '\'';
      return;
    case Kind::Bytes:
      out += "b<" + std::to_string(value.text.size()) + " bytes>";
      return;
    case Kind::List:
    case Kind::Tuple: {
      out += value.kind == Kind::List ? "[" : "(";
      for (std::size_t i = 0; i < value.items.size() && out.size() <= maxChars; ++i) {
        if (i > 0) out += ", ";
        describeInto(*value.items[i], out, maxChars, depth + 1);
      }
      out += value.kind == Kind::List ? "]" : ")";
      return;
    }
    case Kind::Dict:
      out += "{";
      for (std::size_t i = 0; i < value.entries.size() && out.size() <= maxChars; ++i) {
        if (i > 0) out += ", ";
        describeInto(*value.entries[i].first, out, maxChars, depth + 1);
        out += ": ";
        describeInto(*value.entries[i].second, out, maxChars, depth + 1);
      }
      out += "}";
      return;
    case Kind::Global:
      out += '<';
      out += value.text;
      out += '>';
      return;
    case Kind::Object:
      out += '<';
      out += value.className();
      out += " object>";
      return;
    case Kind::PersistentId:
      out += "<persistent reference>";
      return;
  }
}

}  // namespace

std::string describe(const Value& value, std::size_t maxChars) {
  std::string out;
  describeInto(value, out, maxChars, 0);
  if (out.size() > maxChars) out = out.substr(0, maxChars) + "...";
  return out;
}

}  // namespace syncbn::train::pickle
