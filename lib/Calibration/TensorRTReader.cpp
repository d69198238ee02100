//===- TensorRTReader.cpp - Reader for TensorRT calibration caches --------===//
//
// Reads the text calibration cache that TensorRT's INT8 calibrators write
// (IInt8Calibrator::writeCalibrationCache):
//
//   TRT-8601-EntropyCalibration2
//   input.1: 3c010204
//   (Unnamed Layer* 3) [Constant]_output: 3d8a3b6f
//
// The header names the TensorRT version and the calibrator. Each row is a
// tensor name, ": ", and the IEEE-754 bits of a float32 scale as 8 hex
// digits. TensorRT quantizes symmetrically to [-127, 127], so the dynamic
// range is amax = scale * 127. Names may contain ':' or ": ", so the value is
// what follows the last ": ".
//
//===----------------------------------------------------------------------===//

#include "CalibrationInternal.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/bit.h"

#include <cmath>

using namespace llvm;

namespace mlir::qopt::detail {

Expected<CalibrationTable> parseTensorRT(StringRef contents,
                                         StringRef fileName) {
  CalibrationTable table;
  table.format = CalibrationFormat::TensorRT;
  std::vector<StringRef> lines = splitLines(contents);
  bool sawHeader = false;
  for (size_t i = 0, e = lines.size(); i != e; ++i) {
    unsigned lineNo = i + 1;
    StringRef line = lines[i];
    if (line.trim().empty())
      continue;
    if (!sawHeader) {
      StringRef header = line.trim();
      StringRef rest = header;
      bool ok = rest.consume_front("TRT-");
      auto [version, calibrator] = rest.split('-');
      ok = ok && !version.empty() && all_of(version, isDigit) &&
           !calibrator.empty() && none_of(calibrator, isSpace);
      if (!ok)
        return makeError(fileName, lineNo,
                         "expected a TensorRT calibration cache header such "
                         "as 'TRT-8601-EntropyCalibration2', found '" +
                             header.take_front(80) + "'");
      table.producer = header.str();
      sawHeader = true;
      continue;
    }
    size_t colon = line.rfind(": ");
    if (colon == StringRef::npos)
      return makeError(fileName, lineNo,
                       "expected 'name: hexbits', found '" +
                           line.take_front(80) + "'");
    StringRef name = line.take_front(colon);
    StringRef hex = line.drop_front(colon + 2).trim();
    if (name.empty())
      return makeError(fileName, lineNo, "empty tensor name");
    if (hex.size() != 8 || !all_of(hex, isHexDigit))
      return makeError(fileName, lineNo,
                       "tensor " + quote(name) + ": scale '" +
                           hex.take_front(40) +
                           "' is not 8 hex digits (the bits of a float32)");
    uint32_t bits = 0;
    if (hex.getAsInteger(16, bits))
      return makeError(fileName, lineNo,
                       "tensor " + quote(name) + ": scale '" + hex +
                           "' is not 8 hex digits (the bits of a float32)");
    float scale = llvm::bit_cast<float>(bits);
    if (!std::isfinite(scale) || !(scale > 0))
      return makeError(fileName, lineNo,
                       "tensor " + quote(name) + ": scale " + hex +
                           " decodes to " + formatDouble(scale) +
                           "; expected a positive finite float32");
    TensorStats stats;
    stats.name = name.str();
    stats.line = lineNo;
    double amax = static_cast<double>(scale) * 127.0;
    stats.min = {-amax};
    stats.max = {amax};
    stats.scale = {static_cast<double>(scale)};
    stats.zeroPoint = {0};
    stats.bits = 8;
    stats.symmetric = true;
    table.tensors.push_back(std::move(stats));
  }
  if (!sawHeader)
    return makeError(fileName, 0, "the TensorRT calibration cache is empty");
  return table;
}

} // namespace mlir::qopt::detail
