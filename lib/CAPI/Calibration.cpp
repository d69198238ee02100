//===- Calibration.cpp - C API: read and convert calibration files --------===//
//
// Implements qopt-c/Calibration.h on the readers and writers of
// lib/Calibration: any format qopt reads in, qopt JSON or a TensorRT cache
// out, errors as one message through a callback.
//
//===----------------------------------------------------------------------===//

#include "qopt-c/Calibration.h"

#include "qopt/Calibration/CalibrationTable.h"

#include "mlir/CAPI/Support.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {
MlirLogicalResult fail(MlirStringCallback error, void *userData,
                       const llvm::Twine &message) {
  std::string text = message.str();
  if (error)
    error(wrap(llvm::StringRef(text)), userData);
  return wrap(failure());
}

/// Parses a format name; an empty name is `auto`.
std::optional<CalibrationFormat> parseFormat(llvm::StringRef name) {
  if (name.empty())
    return CalibrationFormat::Auto;
  return parseCalibrationFormat(name);
}

/// Reads with `read` (file or buffer), writes as `outputFormat`.
template <typename ReadFn>
MlirLogicalResult convert(ReadFn read, llvm::StringRef name,
                          MlirStringRef format, MlirStringRef outputFormat,
                          MlirStringCallback output, MlirStringCallback error,
                          void *userData) {
  std::optional<CalibrationFormat> in = parseFormat(unwrap(format));
  if (!in)
    return fail(error, userData,
                "unknown calibration format '" + unwrap(format) +
                    "' (expected auto, qopt, tensorrt, onnxruntime, "
                    "onnxruntime-cache, aimet or tpu-mlir)");
  llvm::StringRef outName = unwrap(outputFormat);
  if (outName.empty())
    outName = "qopt";
  std::optional<CalibrationFormat> out = parseFormat(outName);
  if (!out ||
      (*out != CalibrationFormat::QOpt && *out != CalibrationFormat::TensorRT))
    return fail(error, userData,
                "cannot write calibration format '" + outName +
                    "' (qopt writes qopt and tensorrt)");

  llvm::Expected<CalibrationTable> table = read(*in);
  if (!table)
    return fail(error, userData, llvm::toString(table.takeError()));
  std::string text;
  llvm::raw_string_ostream os(text);
  if (llvm::Error err = writeCalibration(*table, *out, os))
    return fail(error, userData,
                name + ": cannot write it as " + outName + ": " +
                    llvm::toString(std::move(err)));
  if (output)
    output(wrap(llvm::StringRef(text)), userData);
  return wrap(success());
}
} // namespace

MlirLogicalResult qoptCalibrationConvertFile(
    MlirStringRef path, MlirStringRef format, MlirStringRef outputFormat,
    MlirStringCallback output, MlirStringCallback error, void *userData) {
  return convert(
      [&](CalibrationFormat in) {
        return readCalibrationFile(unwrap(path), in);
      },
      unwrap(path), format, outputFormat, output, error, userData);
}

MlirLogicalResult
qoptCalibrationConvert(MlirStringRef contents, MlirStringRef fileName,
                       MlirStringRef format, MlirStringRef outputFormat,
                       MlirStringCallback output, MlirStringCallback error,
                       void *userData) {
  return convert(
      [&](CalibrationFormat in) {
        return parseCalibration(unwrap(contents), unwrap(fileName), in);
      },
      unwrap(fileName), format, outputFormat, output, error, userData);
}

MlirStringRef qoptCalibrationDetectFormat(MlirStringRef contents) {
  CalibrationFormat format = sniffCalibrationFormat(unwrap(contents));
  if (format == CalibrationFormat::Auto)
    return wrap(llvm::StringRef(""));
  return wrap(stringifyCalibrationFormat(format));
}
