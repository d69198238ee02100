//===- QOptJsonReader.cpp - Reader for qopt's native JSON format ----------===//
//
// Reads qopt's own calibration JSON (docs/calibration-formats.md):
//
//   {"qopt_calibration": 1, "producer": "...",
//    "tensors": {"x": {"min": -1.0, "max": 2.5},
//                "w": {"axis": 0, "min": [...], "max": [...]},
//                "a": {"min": 0, "max": 6, "histogram":
//                      {"min": 0, "max": 6, "counts": [...]}}}}
//
// It is the one format that holds every field of TensorStats, so it is also
// what the qopt writer produces. Unknown keys are errors: the format is ours,
// and a misspelt key silently ignored would be a calibration silently lost.
//
//===----------------------------------------------------------------------===//

#include "CalibrationInternal.h"

#include "llvm/ADT/StringSet.h"

using namespace llvm;

namespace mlir::qopt::detail {

namespace {
/// The version this reader understands.
constexpr int64_t kQOptVersion = 1;

class QOptReader {
public:
  QOptReader(StringRef contents, StringRef fileName)
      : contents(contents), json(fileName, contents) {}

  Expected<CalibrationTable> read();

private:
  Expected<TensorStats> readTensor(StringRef name, const json::Value &value,
                                   StringRef path);
  Error readHistogram(const json::Value &value, StringRef path,
                      TensorStats &stats);
  /// A number (per-tensor) or an array of numbers (per-axis).
  Error readValues(const json::Object &object, StringRef key, StringRef path,
                   bool perAxis, std::vector<double> &out);

  StringRef contents;
  JsonReader json;
};
} // namespace

Expected<CalibrationTable> QOptReader::read() {
  Expected<json::Value> root = parseJson(contents, json.getFileName());
  if (!root)
    return root.takeError();
  Expected<const json::Object *> object = json.getObject(*root, "");
  if (!object)
    return object.takeError();

  for (const auto &entry : **object) {
    StringRef key = entry.first;
    if (key != "qopt_calibration" && key != "producer" && key != "tensors")
      return json.error(key, "unknown key '" + key +
                                 "' (expected qopt_calibration, producer, "
                                 "tensors)");
  }

  const json::Value *version = (*object)->get("qopt_calibration");
  if (!version)
    return json.error("", "missing the version key \"qopt_calibration\": " +
                              Twine(kQOptVersion));
  Expected<int64_t> versionNumber =
      json.getInteger(*version, "qopt_calibration");
  if (!versionNumber)
    return versionNumber.takeError();
  if (*versionNumber != kQOptVersion)
    return json.error("qopt_calibration",
                      "unsupported version " + Twine(*versionNumber) +
                          "; this qopt reads version " + Twine(kQOptVersion));

  CalibrationTable table;
  table.format = CalibrationFormat::QOpt;
  if (const json::Value *producer = (*object)->get("producer")) {
    Expected<StringRef> text = json.getString(*producer, "producer");
    if (!text)
      return text.takeError();
    table.producer = text->str();
  }

  const json::Value *tensors = (*object)->get("tensors");
  if (!tensors)
    return json.error("", "missing the \"tensors\" object");
  Expected<const json::Object *> tensorObject =
      json.getObject(*tensors, "tensors");
  if (!tensorObject)
    return tensorObject.takeError();

  // llvm::json::Object is unordered; the line index has the file order, and
  // lists a repeated key twice so that validation reports it.
  for (const JsonLineIndex::Key &key : json.keysOf("tensors")) {
    const json::Value *value = (*tensorObject)->get(key.name);
    if (!value)
      continue;
    std::string path = member("tensors", key.name);
    Expected<TensorStats> stats = readTensor(key.name, *value, path);
    if (!stats)
      return stats.takeError();
    stats->line = key.line;
    table.tensors.push_back(std::move(*stats));
  }
  return table;
}

Error QOptReader::readValues(const json::Object &object, StringRef key,
                             StringRef path, bool perAxis,
                             std::vector<double> &out) {
  const json::Value *value = object.get(key);
  std::string keyPath = member(path, key);
  if (!value)
    return json.error(path, "missing \"" + key + "\"");
  if (perAxis) {
    Expected<std::vector<double>> values = json.getNumberArray(*value, keyPath);
    if (!values)
      return values.takeError();
    if (values->empty())
      return json.error(keyPath, "per-axis values are empty");
    out = std::move(*values);
    return Error::success();
  }
  if (value->getAsArray())
    return json.error(keyPath, "expected a number, got an array (per-axis "
                               "values need an \"axis\")");
  Expected<double> number = json.getNumber(*value, keyPath);
  if (!number)
    return number.takeError();
  out = {*number};
  return Error::success();
}

Error QOptReader::readHistogram(const json::Value &value, StringRef path,
                                TensorStats &stats) {
  Expected<const json::Object *> object = json.getObject(value, path);
  if (!object)
    return object.takeError();
  for (const auto &entry : **object) {
    StringRef key = entry.first;
    if (key != "min" && key != "max" && key != "counts")
      return json.error(member(path, key), "unknown histogram key '" + key +
                                               "' (expected min, max, counts)");
  }
  Histogram hist;
  for (StringRef key : {"min", "max"}) {
    const json::Value *bound = (*object)->get(key);
    if (!bound)
      return json.error(path, "missing histogram \"" + key + "\"");
    Expected<double> number = json.getNumber(*bound, member(path, key));
    if (!number)
      return number.takeError();
    (key == "min" ? hist.min : hist.max) = *number;
  }
  const json::Value *counts = (*object)->get("counts");
  if (!counts)
    return json.error(path, "missing histogram \"counts\"");
  Expected<std::vector<int64_t>> values =
      json.getIntegerArray(*counts, member(path, "counts"));
  if (!values)
    return values.takeError();
  hist.counts = std::move(*values);
  stats.histogram = std::move(hist);
  return Error::success();
}

Expected<TensorStats> QOptReader::readTensor(StringRef name,
                                             const json::Value &value,
                                             StringRef path) {
  TensorStats stats;
  stats.name = name.str();
  stats.line = json.lineOf(path);
  Expected<const json::Object *> object = json.getObject(value, path);
  if (!object)
    return object.takeError();

  static const StringSet<> known = {"axis",      "min",       "max",
                                    "histogram", "scale",     "zero_point",
                                    "bits",      "symmetric", "block_size"};
  for (const auto &entry : **object)
    if (!known.contains(entry.first))
      return json.error(member(path, entry.first),
                        "unknown key '" + entry.first.str() +
                            "' (expected axis, min, max, histogram, scale, "
                            "zero_point, bits, symmetric, block_size)");

  if (const json::Value *axis = (*object)->get("axis")) {
    Expected<int64_t> number = json.getInteger(*axis, member(path, "axis"));
    if (!number)
      return number.takeError();
    stats.axis = *number;
  }
  bool perAxis = stats.axis.has_value();
  if (Error error = readValues(**object, "min", path, perAxis, stats.min))
    return std::move(error);
  if (Error error = readValues(**object, "max", path, perAxis, stats.max))
    return std::move(error);

  if (const json::Value *hist = (*object)->get("histogram"))
    if (Error error = readHistogram(*hist, member(path, "histogram"), stats))
      return std::move(error);

  if ((*object)->get("scale")) {
    if (Error error = readValues(**object, "scale", path, perAxis, stats.scale))
      return std::move(error);
    if (const json::Value *zp = (*object)->get("zero_point")) {
      std::string zpPath = member(path, "zero_point");
      if (perAxis) {
        Expected<std::vector<int64_t>> values =
            json.getIntegerArray(*zp, zpPath);
        if (!values)
          return values.takeError();
        stats.zeroPoint = std::move(*values);
      } else {
        Expected<int64_t> integer = json.getInteger(*zp, zpPath);
        if (!integer)
          return integer.takeError();
        stats.zeroPoint = {*integer};
      }
    } else {
      stats.zeroPoint.assign(stats.scale.size(), 0);
    }
  } else if ((*object)->get("zero_point")) {
    return json.error(member(path, "zero_point"),
                      "a zero point needs a \"scale\"");
  }

  if (const json::Value *bits = (*object)->get("bits")) {
    Expected<int64_t> number = json.getInteger(*bits, member(path, "bits"));
    if (!number)
      return number.takeError();
    if (*number < 1 || *number > 32)
      return json.error(member(path, "bits"), "bit width " + Twine(*number) +
                                                  " is out of range (1 to 32)");
    stats.bits = static_cast<unsigned>(*number);
  }
  if (const json::Value *symmetric = (*object)->get("symmetric")) {
    Expected<bool> flag = json.getBool(*symmetric, member(path, "symmetric"));
    if (!flag)
      return flag.takeError();
    stats.symmetric = *flag;
  }
  if (const json::Value *blockSize = (*object)->get("block_size")) {
    Expected<int64_t> number =
        json.getInteger(*blockSize, member(path, "block_size"));
    if (!number)
      return number.takeError();
    stats.blockSize = *number;
  }
  return stats;
}

Expected<CalibrationTable> parseQOptJson(StringRef contents,
                                         StringRef fileName) {
  return QOptReader(contents, fileName).read();
}

} // namespace mlir::qopt::detail
