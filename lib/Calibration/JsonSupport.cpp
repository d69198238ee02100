//===- JsonSupport.cpp - JSON paths, lines and typed getters --------------===//
//
// llvm::json parses the JSON readers' input but keeps neither source lines
// nor the order of object members. This file adds both with a small scanner
// over the (already validated) text, and the typed getters that the JSON
// readers use so that every type error names the file, the line and the JSON
// path, e.g. "calib.json:5: tensors.conv1.min[2]: expected a number, got a
// string".
//
//===----------------------------------------------------------------------===//

#include "CalibrationInternal.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace llvm;

namespace mlir::qopt::detail {

std::string member(StringRef path, StringRef key) {
  if (path.empty())
    return key.str();
  return (path + "." + key).str();
}

std::string element(StringRef path, size_t index) {
  return (path + "[" + Twine(index) + "]").str();
}

StringRef describeJson(const json::Value &value) {
  switch (value.kind()) {
  case json::Value::Null:
    return "null";
  case json::Value::Boolean:
    return "a boolean";
  case json::Value::Number:
    return "a number";
  case json::Value::String:
    return "a string";
  case json::Value::Array:
    return "an array";
  case json::Value::Object:
    return "an object";
  }
  return "a value";
}

/// llvm::json::parse recurses once per nesting level; calibration files nest
/// a few levels, so refuse anything deep enough to threaten the stack.
constexpr unsigned kMaxJsonDepth = 256;

/// The line of the first bracket nested deeper than kMaxJsonDepth, or 0.
static unsigned findExcessiveNesting(StringRef text) {
  unsigned depth = 0, line = 1;
  bool inString = false;
  // `i < e`, not `i != e`: an escape skips a character and may step past
  // the end (found by the fuzzer on a file ending in a backslash).
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (c == '\n')
      ++line;
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return line;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return 0;
}

Expected<json::Value> parseJson(StringRef contents, StringRef fileName) {
  if (unsigned line = findExcessiveNesting(contents))
    return makeError(fileName, line,
                     "invalid JSON: nested deeper than " +
                         Twine(kMaxJsonDepth) + " levels");
  Expected<json::Value> value = json::parse(contents);
  if (value)
    return value;
  // llvm::json::ParseError prints "[line:col, byte=N]: message"; rewrite it
  // as "file:line:col: message" so that it reads like every other error.
  std::string text = toString(value.takeError());
  unsigned line = 0, column = 0;
  StringRef rest = text;
  if (rest.consume_front("[")) {
    StringRef lineText, columnText;
    std::tie(lineText, rest) = rest.split(':');
    std::tie(columnText, rest) = rest.split(',');
    size_t colon = rest.find("]: ");
    if (!lineText.getAsInteger(10, line) &&
        !columnText.getAsInteger(10, column) && colon != StringRef::npos) {
      std::string message = rest.drop_front(colon + 3).str();
      if (!message.empty())
        message[0] = toLower(message[0]);
      return createStringError(inconvertibleErrorCode(),
                               formatv("{0}:{1}:{2}: invalid JSON: {3}",
                                       fileName, line, column, message)
                                   .str());
    }
  }
  return makeError(fileName, 0, "invalid JSON: " + text);
}

//===----------------------------------------------------------------------===//
// JsonLineIndex
//===----------------------------------------------------------------------===//

namespace {
/// One open container while scanning.
struct Frame {
  std::string path;
  unsigned line = 0; // where the container starts
  bool isArray = false;
  size_t index = 0;
  bool expectKey = true;  // objects: next string is a key
  std::string memberPath; // objects: path of the member being read
};

/// Paths longer than this are not recorded (their lines fall back to a
/// shorter prefix), which bounds the index to O(lines + keys) short strings
/// whatever the file holds.
constexpr size_t kMaxIndexedPath = 1024;
} // namespace

JsonLineIndex::JsonLineIndex(StringRef text) {
  SmallVector<Frame, 8> stack;
  unsigned line = 1;
  size_t i = 0, n = text.size();

  // Records the line of the value that starts here. Array elements are
  // recorded only when they start on another line than their array, so
  // that a long one-line array costs nothing.
  auto recordValue = [&]() {
    if (stack.empty()) {
      lines.try_emplace("", line);
      return;
    }
    Frame &top = stack.back();
    if (!top.isArray) {
      if (top.memberPath.size() <= kMaxIndexedPath)
        lines.try_emplace(top.memberPath, line);
      return;
    }
    if (line != top.line && top.path.size() <= kMaxIndexedPath)
      lines.try_emplace(element(top.path, top.index), line);
  };
  auto valuePath = [&]() -> std::string {
    if (stack.empty())
      return "";
    Frame &top = stack.back();
    if (top.isArray)
      return top.path.size() <= kMaxIndexedPath ? element(top.path, top.index)
                                                : top.path;
    return top.memberPath;
  };
  // Reads a string token starting at text[i] == '"'; returns its decoded
  // value and leaves i after the closing quote.
  auto readString = [&]() -> std::string {
    size_t start = i++;
    bool escaped = false;
    while (i < n && text[i] != '"') {
      if (text[i] == '\\') {
        escaped = true;
        ++i;
      }
      if (i < n && text[i] == '\n')
        ++line;
      ++i;
    }
    size_t end = std::min(i, n);
    if (i < n)
      ++i;
    StringRef raw = text.slice(start + 1, end);
    if (!escaped)
      return raw.str();
    // Let llvm::json decode the escapes.
    Expected<json::Value> decoded = json::parse(text.slice(start, end + 1));
    if (!decoded) {
      consumeError(decoded.takeError());
      return raw.str();
    }
    if (std::optional<StringRef> s = decoded->getAsString())
      return s->str();
    return raw.str();
  };

  while (i < n) {
    char c = text[i];
    switch (c) {
    case '\n':
      ++line;
      ++i;
      break;
    case ' ':
    case '\t':
    case '\r':
    case ':':
      ++i;
      break;
    case ',':
      if (!stack.empty()) {
        if (stack.back().isArray)
          ++stack.back().index;
        else
          stack.back().expectKey = true;
      }
      ++i;
      break;
    case '{':
    case '[': {
      recordValue();
      Frame frame;
      frame.path = valuePath();
      frame.line = line;
      frame.isArray = c == '[';
      if (!frame.isArray)
        keys.try_emplace(frame.path);
      stack.push_back(std::move(frame));
      ++i;
      break;
    }
    case '}':
    case ']':
      if (!stack.empty())
        stack.pop_back();
      ++i;
      break;
    case '"': {
      if (!stack.empty() && !stack.back().isArray && stack.back().expectKey) {
        Frame &top = stack.back();
        unsigned keyLine = line;
        std::string key = readString();
        top.expectKey = false;
        top.memberPath = member(top.path, key);
        if (top.memberPath.size() <= kMaxIndexedPath)
          lines.try_emplace(top.memberPath, keyLine);
        keys[top.path].push_back({std::move(key), keyLine});
        break;
      }
      recordValue();
      readString();
      break;
    }
    default:
      // A number or a literal.
      recordValue();
      while (i < n && !StringRef(",}] \t\r\n").contains(text[i]))
        ++i;
      break;
    }
  }
}

unsigned JsonLineIndex::lineOf(StringRef path) const {
  while (true) {
    auto it = lines.find(path);
    if (it != lines.end())
      return it->second;
    if (path.empty())
      return 1;
    // Drop the last segment: "a.b[2]" -> "a.b" -> "a".
    size_t cut = path.find_last_of(".[");
    path = cut == StringRef::npos ? StringRef() : path.take_front(cut);
  }
}

std::vector<JsonLineIndex::Key> JsonLineIndex::keysOf(StringRef path) const {
  auto it = keys.find(path);
  if (it == keys.end())
    return {};
  return it->second;
}

//===----------------------------------------------------------------------===//
// JsonReader
//===----------------------------------------------------------------------===//

Error JsonReader::error(StringRef path, const Twine &message) const {
  if (path.empty())
    return makeError(fileName, lineOf(path), message);
  return makeError(fileName, lineOf(path), path + ": " + message);
}

Expected<const json::Object *> JsonReader::getObject(const json::Value &value,
                                                     StringRef path) const {
  if (const json::Object *object = value.getAsObject())
    return object;
  return error(path, "expected an object, got " + describeJson(value));
}

Expected<const json::Array *> JsonReader::getArray(const json::Value &value,
                                                   StringRef path) const {
  if (const json::Array *array = value.getAsArray())
    return array;
  return error(path, "expected an array, got " + describeJson(value));
}

Expected<double> JsonReader::getNumber(const json::Value &value,
                                       StringRef path) const {
  std::optional<double> number = value.getAsNumber();
  if (!number)
    return error(path, "expected a number, got " + describeJson(value));
  if (!std::isfinite(*number))
    return error(path, "value is not finite (" + formatDouble(*number) + ")");
  return *number;
}

Expected<int64_t> JsonReader::getInteger(const json::Value &value,
                                         StringRef path) const {
  if (std::optional<int64_t> integer = value.getAsInteger())
    return *integer;
  if (value.getAsNumber())
    return error(path, "expected an integer, got " +
                           formatDouble(*value.getAsNumber()));
  return error(path, "expected an integer, got " + describeJson(value));
}

Expected<bool> JsonReader::getBool(const json::Value &value,
                                   StringRef path) const {
  if (std::optional<bool> b = value.getAsBoolean())
    return *b;
  return error(path, "expected true or false, got " + describeJson(value));
}

Expected<StringRef> JsonReader::getString(const json::Value &value,
                                          StringRef path) const {
  if (std::optional<StringRef> s = value.getAsString())
    return *s;
  return error(path, "expected a string, got " + describeJson(value));
}

Expected<std::vector<double>>
JsonReader::getNumberArray(const json::Value &value, StringRef path) const {
  Expected<const json::Array *> array = getArray(value, path);
  if (!array)
    return array.takeError();
  std::vector<double> result;
  result.reserve((*array)->size());
  for (size_t i = 0, e = (*array)->size(); i != e; ++i) {
    Expected<double> number = getNumber((**array)[i], element(path, i));
    if (!number)
      return number.takeError();
    result.push_back(*number);
  }
  return result;
}

Expected<std::vector<int64_t>>
JsonReader::getIntegerArray(const json::Value &value, StringRef path) const {
  Expected<const json::Array *> array = getArray(value, path);
  if (!array)
    return array.takeError();
  std::vector<int64_t> result;
  result.reserve((*array)->size());
  for (size_t i = 0, e = (*array)->size(); i != e; ++i) {
    Expected<int64_t> integer = getInteger((**array)[i], element(path, i));
    if (!integer)
      return integer.takeError();
    result.push_back(*integer);
  }
  return result;
}

} // namespace mlir::qopt::detail
