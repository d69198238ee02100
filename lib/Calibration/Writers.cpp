//===- Writers.cpp - Writers for qopt JSON and TensorRT caches ------------===//
//
// Export of a CalibrationTable. The qopt JSON writer keeps every field and
// prints each double in the shortest form that reads back to the same bits,
// so import -> export -> import is the identity. The TensorRT writer keeps
// what a TensorRT cache can hold: one symmetric scale per tensor, written as
// scale = amax / 127 in float32 bits.
//
//===----------------------------------------------------------------------===//

#include "CalibrationInternal.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Format.h"

#include <cmath>

using namespace llvm;

namespace mlir::qopt::detail {

namespace {
/// The header written when the table does not come from TensorRT.
constexpr StringLiteral kDefaultTensorRTHeader = "TRT-8601-EntropyCalibration2";

void writeJsonString(raw_ostream &os, StringRef text) {
  // The caller has checked that `text` is valid UTF-8.
  os << json::Value(text.str());
}

/// Doubles print as the shortest decimal that reads back to the same value
/// ("0.1", not "0.10000000000000001"); formatDouble checks that with strtod,
/// the function llvm::json::parse uses.
void writeDouble(raw_ostream &os, double value) { os << formatDouble(value); }

void writeDoubles(raw_ostream &os, const std::vector<double> &values,
                  bool asArray) {
  if (!asArray) {
    writeDouble(os, values.front());
    return;
  }
  os << '[';
  interleave(
      values, os, [&](double value) { writeDouble(os, value); }, ", ");
  os << ']';
}

void writeIntegers(raw_ostream &os, const std::vector<int64_t> &values,
                   bool asArray) {
  if (!asArray) {
    os << values.front();
    return;
  }
  os << '['
     << join(map_range(values, [](int64_t v) { return itostr(v); }), ", ")
     << ']';
}
} // namespace

Error writeQOptJson(const CalibrationTable &table, raw_ostream &os) {
  for (const TensorStats &stats : table.tensors)
    if (!json::isUTF8(stats.name))
      return createStringError(inconvertibleErrorCode(),
                               "tensor name " + quote(stats.name) +
                                   " is not valid UTF-8 and cannot be "
                                   "written as JSON");
  if (!json::isUTF8(table.producer))
    return createStringError(inconvertibleErrorCode(),
                             "the producer string is not valid UTF-8");

  os << "{\n  \"qopt_calibration\": 1,\n";
  if (!table.producer.empty()) {
    os << "  \"producer\": ";
    writeJsonString(os, table.producer);
    os << ",\n";
  }
  os << "  \"tensors\": {";
  bool first = true;
  for (const TensorStats &stats : table.tensors) {
    os << (first ? "\n" : ",\n") << "    ";
    first = false;
    writeJsonString(os, stats.name);
    os << ": {";
    bool perAxis = stats.axis.has_value();
    if (perAxis)
      os << "\"axis\": " << *stats.axis << ", ";
    os << "\"min\": ";
    writeDoubles(os, stats.min, perAxis);
    os << ", \"max\": ";
    writeDoubles(os, stats.max, perAxis);
    if (!stats.scale.empty()) {
      os << ", \"scale\": ";
      writeDoubles(os, stats.scale, perAxis);
      os << ", \"zero_point\": ";
      writeIntegers(os, stats.zeroPoint, perAxis);
    }
    if (stats.bits)
      os << ", \"bits\": " << *stats.bits;
    if (stats.symmetric)
      os << ", \"symmetric\": " << (*stats.symmetric ? "true" : "false");
    if (stats.blockSize)
      os << ", \"block_size\": " << *stats.blockSize;
    if (const std::optional<Histogram> &hist = stats.histogram) {
      os << ",\n      \"histogram\": {\"min\": ";
      writeDouble(os, hist->min);
      os << ", \"max\": ";
      writeDouble(os, hist->max);
      os << ", \"counts\": ";
      writeIntegers(os, hist->counts, /*asArray=*/true);
      os << "}";
    }
    os << "}";
  }
  os << (first ? "}\n}\n" : "\n  }\n}\n");
  return Error::success();
}

Error writeTensorRT(const CalibrationTable &table, raw_ostream &os) {
  // Keep the producer's header when the table came from TensorRT, so that
  // TensorRT accepts the cache for the same version and calibrator.
  StringRef header = kDefaultTensorRTHeader;
  StringRef producer = StringRef(table.producer).trim();
  if (producer.starts_with("TRT-") && producer.count('-') >= 2 &&
      none_of(producer, isSpace))
    header = producer;

  std::string body;
  raw_string_ostream out(body);
  out << header << "\n";
  for (const TensorStats &stats : table.tensors) {
    if (stats.axis)
      return createStringError(
          inconvertibleErrorCode(),
          "tensor " + quote(stats.name) +
              " has per-axis stats; a TensorRT calibration cache holds one "
              "scale per tensor");
    if (StringRef(stats.name).contains('\n') ||
        StringRef(stats.name).contains('\r'))
      return createStringError(inconvertibleErrorCode(),
                               "tensor " + quote(stats.name) +
                                   " has a line break in its name");
    double amax =
        std::max(std::fabs(stats.min.front()), std::fabs(stats.max.front()));
    float scale = static_cast<float>(amax / 127.0);
    if (!(scale > 0) || !std::isfinite(scale))
      return createStringError(
          inconvertibleErrorCode(),
          "tensor " + quote(stats.name) + ": range [" +
              formatDouble(stats.min.front()) + ", " +
              formatDouble(stats.max.front()) + "] gives the float32 scale " +
              formatDouble(scale) + ", which a TensorRT cache cannot hold");
    out << stats.name << ": "
        << format_hex_no_prefix(llvm::bit_cast<uint32_t>(scale), 8) << "\n";
  }
  os << body;
  return Error::success();
}

} // namespace mlir::qopt::detail
