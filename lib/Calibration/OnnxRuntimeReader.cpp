//===- OnnxRuntimeReader.cpp - Reader for ONNX Runtime tables -------------===//
//
// Reads what onnxruntime.quantization's write_calibration_table writes
// (quant_utils.py):
//
// * calibration.json, older form: json.dumps of {name: (min, max)}:
//     {"conv1": [-1.5, 2.0], ...}
// * calibration.json, newer form: TensorsData / TensorData objects, numpy
//   arrays written as {"data": ..., "dtype": ..., "CLS": "numpy.array"}:
//     {"CLS": "TensorsData",
//      "data": {"conv1": {"lowest": {"data": [-1.5], ...},
//                         "highest": {"data": [2.0], ...},
//                         "hist": {"data": [...]}, "bins": {"data": [...]},
//                         "CLS": "TensorData"}},
//      "calibration_method": {"CLS": "CalibrationMethod",
//                             "value": "CalibrationMethod.Entropy"}}
//   The histogram's edges are "bins" (entropy, percentile) or "hist_edges"
//   (distribution). The unwrapped {name: TensorData} dict is read as well.
// * calibration.cache: "name amax" per line, amax = max(|min|, |max|) (older)
//   or max(highest, lowest) (newer), as Python's str(float) prints it.
//
//===----------------------------------------------------------------------===//

#include "CalibrationInternal.h"

#include <cmath>

using namespace llvm;

namespace mlir::qopt::detail {

namespace {
class OrtJsonReader {
public:
  OrtJsonReader(StringRef contents, StringRef fileName)
      : contents(contents), json(fileName, contents) {}

  Expected<CalibrationTable> read();

private:
  /// A number, an array of numbers, or a numpy wrapper {"data": ...}.
  Expected<std::vector<double>> readNumbers(const json::Value &value,
                                            StringRef path);
  Expected<std::vector<int64_t>> readIntegers(const json::Value &value,
                                              StringRef path);
  Expected<TensorStats> readTensor(StringRef name, const json::Value &value,
                                   StringRef path);
  Error readHistogram(const json::Object &object, StringRef path,
                      TensorStats &stats);

  StringRef contents;
  JsonReader json;
};
} // namespace

/// Unwraps {"data": x, "dtype": ..., "CLS": "numpy.array"} to x.
static const json::Value *unwrapNumpy(const json::Value &value,
                                      std::string &path) {
  if (const json::Object *object = value.getAsObject())
    if (const json::Value *data = object->get("data")) {
      path = member(path, "data");
      return data;
    }
  return &value;
}

Expected<std::vector<double>>
OrtJsonReader::readNumbers(const json::Value &value, StringRef path) {
  std::string dataPath = path.str();
  const json::Value *data = unwrapNumpy(value, dataPath);
  if (data->getAsArray()) {
    Expected<std::vector<double>> values = json.getNumberArray(*data, dataPath);
    if (!values)
      return values.takeError();
    if (values->empty())
      return json.error(dataPath, "expected at least one value");
    return values;
  }
  Expected<double> number = json.getNumber(*data, dataPath);
  if (!number)
    return number.takeError();
  return std::vector<double>{*number};
}

Expected<std::vector<int64_t>>
OrtJsonReader::readIntegers(const json::Value &value, StringRef path) {
  std::string dataPath = path.str();
  const json::Value *data = unwrapNumpy(value, dataPath);
  return json.getIntegerArray(*data, dataPath);
}

Error OrtJsonReader::readHistogram(const json::Object &object, StringRef path,
                                   TensorStats &stats) {
  const json::Value *hist = object.get("hist");
  if (!hist)
    return Error::success();
  // ONNX Runtime names the edges "bins" for entropy and percentile and
  // "hist_edges" for distribution.
  StringRef edgesKey = object.get("hist_edges") ? "hist_edges" : "bins";
  const json::Value *edgesValue = object.get(edgesKey);
  if (!edgesValue)
    return json.error(member(path, "hist"),
                      "histogram counts without edges (\"bins\" or "
                      "\"hist_edges\")");
  Expected<std::vector<int64_t>> counts =
      readIntegers(*hist, member(path, "hist"));
  if (!counts)
    return counts.takeError();
  std::string edgesPath = member(path, edgesKey);
  Expected<std::vector<double>> edges = readNumbers(*edgesValue, edgesPath);
  if (!edges)
    return edges.takeError();
  if (counts->empty())
    return json.error(member(path, "hist"), "the histogram has no bins");
  if (edges->size() != counts->size() + 1)
    return json.error(edgesPath, "has " + Twine(edges->size()) + " edges for " +
                                     Twine(counts->size()) +
                                     " bins; expected " +
                                     Twine(counts->size() + 1));
  double first = edges->front(), last = edges->back();
  if (!(first < last))
    return json.error(edgesPath, "histogram edges do not increase (first " +
                                     formatDouble(first) + ", last " +
                                     formatDouble(last) + ")");
  // qopt's histograms have equal-width bins; ONNX Runtime's edges are
  // equally spaced up to float32 rounding.
  double width = (last - first) / static_cast<double>(counts->size());
  for (size_t i = 1, e = edges->size(); i != e; ++i) {
    double step = (*edges)[i] - (*edges)[i - 1];
    if (!(std::fabs(step - width) <= 1e-3 * width))
      return json.error(element(edgesPath, i),
                        "histogram edges are not evenly spaced (bin " +
                            Twine(i - 1) + " is " + formatDouble(step) +
                            " wide, the average " + formatDouble(width) +
                            "); qopt needs equal-width bins");
  }
  stats.histogram = Histogram{first, last, std::move(*counts)};
  return Error::success();
}

Expected<TensorStats> OrtJsonReader::readTensor(StringRef name,
                                                const json::Value &value,
                                                StringRef path) {
  TensorStats stats;
  stats.name = name.str();
  stats.line = json.lineOf(path);

  if (const json::Array *pair = value.getAsArray()) {
    // Older form: [min, max].
    if (pair->size() != 2)
      return json.error(path, "expected [min, max], got an array of " +
                                  Twine(pair->size()) + " values");
    Expected<double> lo = json.getNumber((*pair)[0], element(path, 0));
    if (!lo)
      return lo.takeError();
    Expected<double> hi = json.getNumber((*pair)[1], element(path, 1));
    if (!hi)
      return hi.takeError();
    stats.min = {*lo};
    stats.max = {*hi};
    return stats;
  }

  Expected<const json::Object *> object = json.getObject(value, path);
  if (!object)
    return object.takeError();
  for (StringRef key : {"lowest", "highest"})
    if (!(*object)->get(key))
      return json.error(path, "missing \"" + key + "\"");
  Expected<std::vector<double>> lowest =
      readNumbers(*(*object)->get("lowest"), member(path, "lowest"));
  if (!lowest)
    return lowest.takeError();
  Expected<std::vector<double>> highest =
      readNumbers(*(*object)->get("highest"), member(path, "highest"));
  if (!highest)
    return highest.takeError();
  if (lowest->size() != highest->size())
    return json.error(path, "\"lowest\" has " + Twine(lowest->size()) +
                                " values but \"highest\" has " +
                                Twine(highest->size()));
  // Per-channel calibration reduces every axis but 1 (calibrate.py).
  if (lowest->size() > 1)
    stats.axis = 1;
  stats.min = std::move(*lowest);
  stats.max = std::move(*highest);
  if (Error error = readHistogram(**object, path, stats))
    return std::move(error);
  return stats;
}

Expected<CalibrationTable> OrtJsonReader::read() {
  Expected<json::Value> root = parseJson(contents, json.getFileName());
  if (!root)
    return root.takeError();
  Expected<const json::Object *> object = json.getObject(*root, "");
  if (!object)
    return object.takeError();

  CalibrationTable table;
  table.format = CalibrationFormat::OnnxRuntime;
  const json::Object *tensors = *object;
  std::string dataPath;
  const json::Value *cls = (*object)->get("CLS");
  if (cls && cls->getAsString() && *cls->getAsString() == "TensorsData") {
    const json::Value *data = (*object)->get("data");
    if (!data)
      return json.error("", "TensorsData without \"data\"");
    dataPath = "data";
    Expected<const json::Object *> dataObject = json.getObject(*data, dataPath);
    if (!dataObject)
      return dataObject.takeError();
    tensors = *dataObject;
    table.producer = "onnxruntime";
    if (const json::Object *method = (*object)->getObject("calibration_method"))
      if (std::optional<StringRef> text = method->getString("value"))
        table.producer = ("onnxruntime " + *text).str();
  }

  for (const JsonLineIndex::Key &key : json.keysOf(dataPath)) {
    const json::Value *value = tensors->get(key.name);
    if (!value)
      continue;
    Expected<TensorStats> stats =
        readTensor(key.name, *value, member(dataPath, key.name));
    if (!stats)
      return stats.takeError();
    stats->line = key.line;
    table.tensors.push_back(std::move(*stats));
  }
  return table;
}

Expected<CalibrationTable> parseOnnxRuntimeJson(StringRef contents,
                                                StringRef fileName) {
  return OrtJsonReader(contents, fileName).read();
}

Expected<CalibrationTable> parseOnnxRuntimeCache(StringRef contents,
                                                 StringRef fileName) {
  CalibrationTable table;
  table.format = CalibrationFormat::OnnxRuntimeCache;
  std::vector<StringRef> lines = splitLines(contents);
  for (size_t i = 0, e = lines.size(); i != e; ++i) {
    unsigned lineNo = i + 1;
    StringRef line = lines[i].rtrim();
    if (line.trim().empty())
      continue;
    // Names may hold spaces; the value is the last field.
    size_t space = line.find_last_of(" \t");
    if (space == StringRef::npos)
      return makeError(fileName, lineNo,
                       "expected 'name amax', found '" + line.take_front(80) +
                           "'");
    StringRef name = line.take_front(space).rtrim();
    StringRef text = line.drop_front(space + 1);
    double amax;
    if (name.empty())
      return makeError(fileName, lineNo, "empty tensor name");
    if (!parseDouble(text, amax))
      return makeError(fileName, lineNo,
                       "tensor " + quote(name) + ": '" + text.take_front(40) +
                           "' is not a number");
    if (!std::isfinite(amax))
      return makeError(fileName, lineNo,
                       "tensor " + quote(name) + ": amax is not finite (" +
                           formatDouble(amax) + ")");
    if (amax < 0)
      return makeError(fileName, lineNo,
                       "tensor " + quote(name) + ": amax (" +
                           formatDouble(amax) + ") is negative");
    TensorStats stats;
    stats.name = name.str();
    stats.line = lineNo;
    stats.min = {-amax};
    stats.max = {amax};
    stats.symmetric = true;
    table.tensors.push_back(std::move(stats));
  }
  return table;
}

} // namespace mlir::qopt::detail
