//===- CalibrationInternal.h - Shared helpers of the readers ----*- C++ -*-===//
//
// Private to lib/Calibration: the error helpers and the one validation that
// every reader runs on what it read, so that all formats report bad input the
// same way ("file:line: tensor 'x': what is wrong"), plus a small index of a
// JSON document that gives the source line of any JSON path and the keys of an
// object in file order (llvm::json::Object is unordered and has no lines).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CALIBRATION_CALIBRATIONINTERNAL_H
#define QOPT_LIB_CALIBRATION_CALIBRATIONINTERNAL_H

#include "qopt/Calibration/CalibrationTable.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/JSON.h"

#include <memory>
#include <string>
#include <vector>

namespace mlir::qopt::detail {

/// "file:line: message", or "file: message" when `line` is 0.
llvm::Error makeError(llvm::StringRef fileName, unsigned line,
                      const llvm::Twine &message);

/// Prints `value` in the shortest form that reads back to the same double,
/// with a ".0" for integral values ("1.0", "2.5", "inf", "nan").
std::string formatDouble(double value);

/// Quotes a name for a message: 'conv1'.
std::string quote(llvm::StringRef name);

/// Checks one tensor: non-empty name, matching vector sizes, finite values,
/// min <= max, positive scales, a sane bit width and histogram. `fileName` and
/// `stats.line` locate the error.
llvm::Error validateTensor(const TensorStats &stats, llvm::StringRef fileName);

/// Validates every tensor and rejects duplicate names.
llvm::Error validateTable(const CalibrationTable &table,
                          llvm::StringRef fileName);

/// Parses JSON and turns a syntax error into "file:line:col: message".
llvm::Expected<llvm::json::Value> parseJson(llvm::StringRef contents,
                                            llvm::StringRef fileName);

/// Source lines of the values of a (syntactically valid) JSON document, keyed
/// by path: "" for the root, "tensors.conv1" for a member (the line of its
/// key), "tensors.conv1.min[2]" for an array element.
class JsonLineIndex {
public:
  explicit JsonLineIndex(llvm::StringRef text);

  /// The line of `path`, or of its longest recorded prefix; 1 if none.
  unsigned lineOf(llvm::StringRef path) const;

  /// A member key and the line it is on.
  struct Key {
    std::string name;
    unsigned line;
  };
  /// The keys of the object at `path` in file order, repeated keys included
  /// (llvm::json keeps only the last of them).
  std::vector<Key> keysOf(llvm::StringRef path) const;

private:
  llvm::StringMap<unsigned> lines;
  llvm::StringMap<std::vector<Key>> keys;
};

/// Path helpers: member("tensors", "x") == "tensors.x", element("a", 2) ==
/// "a[2]".
std::string member(llvm::StringRef path, llvm::StringRef key);
std::string element(llvm::StringRef path, size_t index);

/// A short name for the kind of a JSON value ("a string", "an array").
llvm::StringRef describeJson(const llvm::json::Value &value);

/// Reading helpers for JSON readers: each reports "file:line: path: what".
class JsonReader {
public:
  /// `contents` must outlive the reader. The line index is built on first
  /// use, after llvm::json has accepted the text.
  JsonReader(llvm::StringRef fileName, llvm::StringRef contents)
      : fileName(fileName), contents(contents) {}

  llvm::Error error(llvm::StringRef path, const llvm::Twine &message) const;
  unsigned lineOf(llvm::StringRef path) const {
    return getIndex().lineOf(path);
  }
  std::vector<JsonLineIndex::Key> keysOf(llvm::StringRef path) const {
    return getIndex().keysOf(path);
  }

  llvm::Expected<const llvm::json::Object *>
  getObject(const llvm::json::Value &value, llvm::StringRef path) const;
  llvm::Expected<const llvm::json::Array *>
  getArray(const llvm::json::Value &value, llvm::StringRef path) const;
  /// A finite number.
  llvm::Expected<double> getNumber(const llvm::json::Value &value,
                                   llvm::StringRef path) const;
  /// An integer (an integral double such as -128.0 is accepted).
  llvm::Expected<int64_t> getInteger(const llvm::json::Value &value,
                                     llvm::StringRef path) const;
  llvm::Expected<bool> getBool(const llvm::json::Value &value,
                               llvm::StringRef path) const;
  llvm::Expected<llvm::StringRef> getString(const llvm::json::Value &value,
                                            llvm::StringRef path) const;
  /// An array of finite numbers.
  llvm::Expected<std::vector<double>>
  getNumberArray(const llvm::json::Value &value, llvm::StringRef path) const;
  llvm::Expected<std::vector<int64_t>>
  getIntegerArray(const llvm::json::Value &value, llvm::StringRef path) const;

  llvm::StringRef getFileName() const { return fileName; }

private:
  const JsonLineIndex &getIndex() const {
    if (!index)
      index = std::make_unique<JsonLineIndex>(contents);
    return *index;
  }

  std::string fileName;
  llvm::StringRef contents;
  mutable std::unique_ptr<JsonLineIndex> index;
};

/// Splits `contents` into lines (without "\n" or a trailing "\r").
std::vector<llvm::StringRef> splitLines(llvm::StringRef contents);

/// Parses a decimal floating-point number (as Python's str(float) writes it,
/// "inf" and "nan" included); returns false on garbage.
bool parseDouble(llvm::StringRef text, double &value);

// The readers, one per file. `fileName` is used in diagnostics only.
llvm::Expected<CalibrationTable> parseQOptJson(llvm::StringRef contents,
                                               llvm::StringRef fileName);
llvm::Expected<CalibrationTable> parseTensorRT(llvm::StringRef contents,
                                               llvm::StringRef fileName);
llvm::Expected<CalibrationTable> parseOnnxRuntimeJson(llvm::StringRef contents,
                                                      llvm::StringRef fileName);
llvm::Expected<CalibrationTable>
parseOnnxRuntimeCache(llvm::StringRef contents, llvm::StringRef fileName);
llvm::Expected<CalibrationTable> parseAimet(llvm::StringRef contents,
                                            llvm::StringRef fileName);
llvm::Expected<CalibrationTable> parseTpuMlir(llvm::StringRef contents,
                                              llvm::StringRef fileName);

// The writers.
llvm::Error writeQOptJson(const CalibrationTable &table, llvm::raw_ostream &os);
llvm::Error writeTensorRT(const CalibrationTable &table, llvm::raw_ostream &os);

} // namespace mlir::qopt::detail

#endif // QOPT_LIB_CALIBRATION_CALIBRATIONINTERNAL_H
