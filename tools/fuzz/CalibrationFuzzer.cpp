//===- CalibrationFuzzer.cpp - libFuzzer target for the readers -----------===//
//
// One libFuzzer target per calibration reader: the build compiles this file
// once per format with QOPT_FUZZ_FORMAT set to a CalibrationFormat
// enumerator (Auto exercises the sniffer). Besides "no crash, no sanitizer
// report", every table a reader accepts must survive the qopt JSON writer
// bit for bit, and a TensorRT export that succeeds must read back.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/CalibrationTable.h"
#include "qopt/Calibration/Calibrators.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#ifndef QOPT_FUZZ_FORMAT
#error "QOPT_FUZZ_FORMAT must name a CalibrationFormat enumerator"
#endif

using namespace mlir::qopt;

namespace {
bool sameBits(const std::vector<double> &a, const std::vector<double> &b) {
  return a.size() == b.size() &&
         (a.empty() ||
          std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

bool sameStats(const TensorStats &a, const TensorStats &b) {
  if (a.name != b.name || a.axis != b.axis || !sameBits(a.min, b.min) ||
      !sameBits(a.max, b.max) || !sameBits(a.scale, b.scale) ||
      a.zeroPoint != b.zeroPoint || a.bits != b.bits ||
      a.symmetric != b.symmetric || a.blockSize != b.blockSize ||
      a.histogram.has_value() != b.histogram.has_value())
    return false;
  if (!a.histogram)
    return true;
  return sameBits({a.histogram->min}, {b.histogram->min}) &&
         sameBits({a.histogram->max}, {b.histogram->max}) &&
         a.histogram->counts == b.histogram->counts;
}

[[noreturn]] void fail(const char *what, const std::string &detail) {
  llvm::errs() << "qopt fuzz oracle: " << what << "\n" << detail << "\n";
  std::abort();
}

void checkRoundTrip(const CalibrationTable &table) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (llvm::Error error =
          writeCalibration(table, CalibrationFormat::QOpt, os)) {
    // Only names or producers that are not UTF-8 may be refused.
    std::string message = llvm::toString(std::move(error));
    if (message.find("UTF-8") == std::string::npos)
      fail("qopt writer refused a valid table", message);
    return;
  }
  llvm::Expected<CalibrationTable> again =
      parseCalibration(text, "roundtrip", CalibrationFormat::QOpt);
  if (!again)
    fail("qopt JSON export does not read back",
         llvm::toString(again.takeError()) + "\n" + text);
  if (again->producer != table.producer ||
      again->tensors.size() != table.tensors.size())
    fail("qopt JSON round trip changed the table", text);
  for (size_t i = 0; i < table.tensors.size(); ++i)
    if (!sameStats(table.tensors[i], again->tensors[i]))
      fail("qopt JSON round trip changed a tensor", text);

  std::string trt;
  llvm::raw_string_ostream trtOs(trt);
  if (llvm::Error error =
          writeCalibration(table, CalibrationFormat::TensorRT, trtOs)) {
    llvm::consumeError(std::move(error));
    return;
  }
  llvm::Expected<CalibrationTable> fromTrt =
      parseCalibration(trt, "roundtrip.cache", CalibrationFormat::TensorRT);
  if (!fromTrt)
    fail("TensorRT export does not read back",
         llvm::toString(fromTrt.takeError()) + "\n" + trt);
}

void runCalibrators(const CalibrationTable &table) {
  // Bounded work per input: the histogram calibrators are O(bins^2).
  size_t budget = 1 << 12;
  for (const TensorStats &stats : table.tensors) {
    size_t bins = stats.histogram ? stats.histogram->counts.size() : 0;
    for (CalibratorKind kind :
         {CalibratorKind::MinMax, CalibratorKind::Percentile,
          CalibratorKind::Entropy, CalibratorKind::MSE}) {
      if (kind != CalibratorKind::MinMax && bins > budget)
        continue;
      for (bool symmetric : {false, true}) {
        CalibratorOptions opts;
        opts.kind = kind;
        opts.symmetric = symmetric;
        llvm::Expected<CalibrationRange> range = computeRange(stats, opts);
        if (!range) {
          llvm::consumeError(range.takeError());
          continue;
        }
        if (!(range->min <= range->max))
          fail("calibrator returned an empty range", stats.name);
      }
    }
    budget = bins > budget ? 0 : budget - bins;
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef contents(reinterpret_cast<const char *>(data), size);
  llvm::Expected<CalibrationTable> table =
      parseCalibration(contents, "fuzz", CalibrationFormat::QOPT_FUZZ_FORMAT);
  if (!table) {
    std::string message = llvm::toString(table.takeError());
    if (message.rfind("fuzz", 0) != 0)
      fail("error does not name the file", message);
    return 0;
  }
  checkRoundTrip(*table);
  runCalibrators(*table);
  return 0;
}
