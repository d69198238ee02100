//===- CalibrationTable.cpp - Format sniffing, dispatch, validation -------===//
//
// The entry points of the calibration library: naming formats, guessing a
// format from the contents of a file, dispatching to the reader of each
// format, and the validation that every reader's result goes through so that
// bad input is reported the same way whatever the format.
//
//===----------------------------------------------------------------------===//

#include "CalibrationInternal.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace llvm;

namespace mlir::qopt {

StringRef stringifyCalibrationFormat(CalibrationFormat format) {
  switch (format) {
  case CalibrationFormat::Auto:
    return "auto";
  case CalibrationFormat::QOpt:
    return "qopt";
  case CalibrationFormat::TensorRT:
    return "tensorrt";
  case CalibrationFormat::OnnxRuntime:
    return "onnxruntime";
  case CalibrationFormat::OnnxRuntimeCache:
    return "onnxruntime-cache";
  case CalibrationFormat::Aimet:
    return "aimet";
  case CalibrationFormat::TpuMlir:
    return "tpu-mlir";
  }
  return "unknown";
}

std::optional<CalibrationFormat> parseCalibrationFormat(StringRef name) {
  return StringSwitch<std::optional<CalibrationFormat>>(name)
      .Case("auto", CalibrationFormat::Auto)
      .Case("qopt", CalibrationFormat::QOpt)
      .Case("tensorrt", CalibrationFormat::TensorRT)
      .Case("onnxruntime", CalibrationFormat::OnnxRuntime)
      .Case("onnxruntime-cache", CalibrationFormat::OnnxRuntimeCache)
      .Case("aimet", CalibrationFormat::Aimet)
      .Case("tpu-mlir", CalibrationFormat::TpuMlir)
      .Default(std::nullopt);
}

const TensorStats *CalibrationTable::lookup(StringRef name) const {
  for (const TensorStats &stats : tensors)
    if (stats.name == name)
      return &stats;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Sniffing
//===----------------------------------------------------------------------===//

namespace {
bool isNumber(StringRef text) {
  double value;
  return detail::parseDouble(text, value);
}

/// True for "TRT-<digits>-<name>".
bool isTensorRTHeader(StringRef line) {
  line = line.trim();
  if (!line.consume_front("TRT-"))
    return false;
  auto [version, calibrator] = line.split('-');
  return !version.empty() && all_of(version, isDigit) && !calibrator.empty() &&
         none_of(calibrator, isSpace);
}

CalibrationFormat sniffJson(StringRef text) {
  // Keys that only one producer writes; looked up in the text so that a
  // truncated file is still recognised and gets its reader's JSON error.
  if (text.contains("\"qopt_calibration\""))
    return CalibrationFormat::QOpt;
  if (text.contains("\"activation_encodings\"") ||
      text.contains("\"param_encodings\""))
    return CalibrationFormat::Aimet;
  if (text.contains("\"TensorsData\"") || text.contains("\"TensorData\"") ||
      text.contains("\"lowest\"") || text.contains("\"highest\""))
    return CalibrationFormat::OnnxRuntime;
  // ONNX Runtime's older table: {"name": [min, max], ...}.
  Expected<json::Value> value = detail::parseJson(text, "");
  if (!value) {
    consumeError(value.takeError());
    return CalibrationFormat::Auto;
  }
  const json::Object *object = value->getAsObject();
  if (!object || object->empty())
    return CalibrationFormat::Auto;
  for (const auto &entry : *object) {
    const json::Array *pair = entry.second.getAsArray();
    if (!pair || pair->size() != 2 || !(*pair)[0].getAsNumber() ||
        !(*pair)[1].getAsNumber())
      return CalibrationFormat::Auto;
  }
  return CalibrationFormat::OnnxRuntime;
}
} // namespace

CalibrationFormat sniffCalibrationFormat(StringRef contents) {
  contents.consume_front("\xEF\xBB\xBF");
  StringRef text = contents.ltrim();
  if (text.empty())
    return CalibrationFormat::Auto;
  if (text.front() == '{' || text.front() == '[')
    return sniffJson(text);

  std::vector<StringRef> lines = detail::splitLines(text);
  if (isTensorRTHeader(lines.front()))
    return CalibrationFormat::TensorRT;
  if (lines.front().trim().starts_with("#"))
    return CalibrationFormat::TpuMlir;
  // No header: look at the first data row. TPU-MLIR rows end in three
  // numbers (threshold min max), ONNX Runtime cache rows in one (amax).
  for (StringRef line : lines) {
    SmallVector<StringRef, 8> fields;
    line.split(fields, ' ', -1, /*KeepEmpty=*/false);
    if (fields.empty())
      continue;
    size_t n = fields.size();
    if (n >= 4 && isNumber(fields[n - 1]) && isNumber(fields[n - 2]) &&
        isNumber(fields[n - 3]))
      return CalibrationFormat::TpuMlir;
    if (n >= 2 && isNumber(fields[n - 1]))
      return CalibrationFormat::OnnxRuntimeCache;
    return CalibrationFormat::Auto;
  }
  return CalibrationFormat::Auto;
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

Expected<CalibrationTable> parseCalibration(StringRef contents,
                                            StringRef fileName,
                                            CalibrationFormat format) {
  contents.consume_front("\xEF\xBB\xBF");
  if (contents.trim().empty())
    return detail::makeError(fileName, 0, "the calibration file is empty");
  CalibrationFormat actual = format;
  if (format == CalibrationFormat::Auto) {
    actual = sniffCalibrationFormat(contents);
    if (actual == CalibrationFormat::Auto)
      return detail::makeError(
          fileName, 0,
          "cannot tell the calibration format from the contents; name it "
          "with format=qopt|tensorrt|onnxruntime|aimet|tpu-mlir");
  } else if (format == CalibrationFormat::OnnxRuntime) {
    // One option value covers ONNX Runtime's calibration.json and its plain
    // calibration.cache; the first character tells them apart.
    if (!contents.ltrim().starts_with("{"))
      actual = CalibrationFormat::OnnxRuntimeCache;
  }

  Expected<CalibrationTable> table = [&]() -> Expected<CalibrationTable> {
    switch (actual) {
    case CalibrationFormat::QOpt:
      return detail::parseQOptJson(contents, fileName);
    case CalibrationFormat::TensorRT:
      return detail::parseTensorRT(contents, fileName);
    case CalibrationFormat::OnnxRuntime:
      return detail::parseOnnxRuntimeJson(contents, fileName);
    case CalibrationFormat::OnnxRuntimeCache:
      return detail::parseOnnxRuntimeCache(contents, fileName);
    case CalibrationFormat::Aimet:
      return detail::parseAimet(contents, fileName);
    case CalibrationFormat::TpuMlir:
      return detail::parseTpuMlir(contents, fileName);
    case CalibrationFormat::Auto:
      break;
    }
    return detail::makeError(
        fileName, 0,
        "unknown calibration format (enum value " +
            Twine(static_cast<int>(actual)) +
            "); use one of auto, qopt, tensorrt, onnxruntime, aimet, "
            "tpu-mlir");
  }();
  if (!table)
    return table.takeError();
  table->format = actual;
  if (Error error = detail::validateTable(*table, fileName))
    return std::move(error);
  return table;
}

Expected<CalibrationTable> readCalibrationFile(StringRef path,
                                               CalibrationFormat format) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return detail::makeError(path, 0,
                             "cannot read the calibration file: " +
                                 buffer.getError().message());
  return parseCalibration((*buffer)->getBuffer(), path, format);
}

Error writeCalibration(const CalibrationTable &table, CalibrationFormat format,
                       raw_ostream &os) {
  if (format != CalibrationFormat::QOpt &&
      format != CalibrationFormat::TensorRT)
    return createStringError(inconvertibleErrorCode(),
                             "cannot write calibration format '" +
                                 stringifyCalibrationFormat(format) +
                                 "'; qopt writes only 'qopt' and 'tensorrt'");
  if (Error error = detail::validateTable(table, "<calibration table>"))
    return error;
  if (format == CalibrationFormat::QOpt)
    return detail::writeQOptJson(table, os);
  return detail::writeTensorRT(table, os);
}

//===----------------------------------------------------------------------===//
// Shared helpers and validation
//===----------------------------------------------------------------------===//

namespace detail {

Error makeError(StringRef fileName, unsigned line, const Twine &message) {
  std::string text = fileName.str();
  if (line)
    text += ":" + std::to_string(line);
  text += ": " + message.str();
  return createStringError(inconvertibleErrorCode(), text);
}

std::string formatDouble(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  std::string text = buffer;
  if (text.find_first_of(".eE") == std::string::npos)
    text += ".0";
  return text;
}

std::string quote(StringRef name) { return "'" + name.str() + "'"; }

std::vector<StringRef> splitLines(StringRef contents) {
  std::vector<StringRef> lines;
  while (!contents.empty()) {
    auto [line, rest] = contents.split('\n');
    line.consume_back("\r");
    lines.push_back(line);
    contents = rest;
  }
  return lines;
}

bool parseDouble(StringRef text, double &value) {
  text = text.trim();
  if (text.empty() || text.size() > 64)
    return false;
  // strtod also accepts hex floats and leading spaces; keep to what Python
  // prints: [sign] digits [. digits] [e [sign] digits] | inf | nan.
  StringRef body = text;
  body.consume_front("-") || body.consume_front("+");
  std::string lower = body.lower();
  if (lower == "inf" || lower == "infinity" || lower == "nan") {
    value =
        lower == "nan" ? NAN : (text.starts_with("-") ? -HUGE_VAL : HUGE_VAL);
    return true;
  }
  bool digits = false;
  size_t i = 0;
  while (i < body.size() && isDigit(body[i]))
    ++i, digits = true;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && isDigit(body[i]))
      ++i, digits = true;
  }
  if (!digits)
    return false;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '-' || body[i] == '+'))
      ++i;
    bool exponentDigits = false;
    while (i < body.size() && isDigit(body[i]))
      ++i, exponentDigits = true;
    if (!exponentDigits)
      return false;
  }
  if (i != body.size())
    return false;
  std::string copy = text.str();
  value = std::strtod(copy.c_str(), nullptr);
  return true;
}

Error validateTensor(const TensorStats &stats, StringRef fileName) {
  auto fail = [&](const Twine &message) {
    return makeError(fileName, stats.line,
                     "tensor " + quote(stats.name) + ": " + message);
  };
  if (stats.name.empty())
    return makeError(fileName, stats.line, "a tensor has an empty name");
  if (stats.min.empty() || stats.max.empty())
    return fail("no min/max values");
  if (stats.min.size() != stats.max.size())
    return fail("min has " + Twine(stats.min.size()) + " values but max has " +
                Twine(stats.max.size()));
  if (!stats.axis && stats.min.size() != 1)
    return fail("has " + Twine(stats.min.size()) +
                " min/max values but no axis; per-channel stats need an "
                "axis");
  if (stats.axis && *stats.axis < 0)
    return fail("axis (" + Twine(*stats.axis) + ") is negative");
  bool perChannel = stats.axis.has_value();
  for (size_t i = 0, e = stats.min.size(); i != e; ++i) {
    std::string where = perChannel ? "[" + std::to_string(i) + "]" : "";
    if (!std::isfinite(stats.min[i]))
      return fail("min" + where + " is not finite (" +
                  formatDouble(stats.min[i]) + ")");
    if (!std::isfinite(stats.max[i]))
      return fail("max" + where + " is not finite (" +
                  formatDouble(stats.max[i]) + ")");
    if (stats.min[i] > stats.max[i])
      return fail("min" + where + " (" + formatDouble(stats.min[i]) +
                  ") is greater than max" + where + " (" +
                  formatDouble(stats.max[i]) + ")");
  }
  if (!stats.scale.empty()) {
    if (stats.scale.size() != stats.min.size())
      return fail("has " + Twine(stats.scale.size()) + " scales but " +
                  Twine(stats.min.size()) + " min/max values");
    if (stats.zeroPoint.size() != stats.scale.size())
      return fail("has " + Twine(stats.scale.size()) + " scales but " +
                  Twine(stats.zeroPoint.size()) + " zero points");
    for (size_t i = 0, e = stats.scale.size(); i != e; ++i) {
      std::string where = perChannel ? "[" + std::to_string(i) + "]" : "";
      if (!std::isfinite(stats.scale[i]) || !(stats.scale[i] > 0))
        return fail("scale" + where + " (" + formatDouble(stats.scale[i]) +
                    ") is not a positive finite number");
    }
  } else if (!stats.zeroPoint.empty()) {
    return fail("has zero points but no scales");
  }
  if (stats.bits && (*stats.bits < 1 || *stats.bits > 32))
    return fail("bit width " + Twine(*stats.bits) +
                " is out of range (1 to 32)");
  if (stats.blockSize && *stats.blockSize <= 0)
    return fail("block size (" + Twine(*stats.blockSize) + ") is not positive");
  if (stats.blockSize && !stats.axis)
    return fail("has a block size but no axis");
  if (const std::optional<Histogram> &hist = stats.histogram) {
    if (perChannel)
      return fail("has a histogram but per-channel stats; histograms are "
                  "per-tensor only");
    if (!std::isfinite(hist->min) || !std::isfinite(hist->max))
      return fail("histogram bounds are not finite (" +
                  formatDouble(hist->min) + ", " + formatDouble(hist->max) +
                  ")");
    if (!(hist->min < hist->max))
      return fail("histogram min (" + formatDouble(hist->min) +
                  ") is not less than histogram max (" +
                  formatDouble(hist->max) + ")");
    if (hist->counts.empty())
      return fail("histogram has no bins");
    for (size_t i = 0, e = hist->counts.size(); i != e; ++i)
      if (hist->counts[i] < 0)
        return fail("histogram count [" + Twine(i) + "] is negative (" +
                    Twine(hist->counts[i]) + ")");
  }
  return Error::success();
}

Error validateTable(const CalibrationTable &table, StringRef fileName) {
  StringMap<unsigned> seen;
  for (const TensorStats &stats : table.tensors) {
    if (Error error = validateTensor(stats, fileName))
      return error;
    auto [it, inserted] = seen.try_emplace(stats.name, stats.line);
    if (!inserted) {
      std::string first = it->second ? " (first defined on line " +
                                           std::to_string(it->second) + ")"
                                     : "";
      return makeError(fileName, stats.line,
                       "duplicate tensor name " + quote(stats.name) + first);
    }
  }
  return Error::success();
}

} // namespace detail
} // namespace mlir::qopt
