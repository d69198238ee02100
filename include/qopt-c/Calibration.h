/*===- qopt-c/Calibration.h - read and convert calibration files -*- C -*-===*\
|*                                                                            *|
|* Reads a calibration file in any format qopt reads (qopt JSON, TensorRT     *|
|* cache, ONNX Runtime, AIMET, TPU-MLIR; docs/calibration-formats.md) and     *|
|* writes it as qopt's calibration JSON or a TensorRT cache, with the readers *|
|* and writers of lib/Calibration. Needs no MLIR context. Documented in       *|
|* docs/c-api.md.                                                             *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QOPT_C_CALIBRATION_H
#define QOPT_C_CALIBRATION_H

#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Reads the calibration file at `path` and writes it in `outputFormat`.
///
/// `format` names the input format as the `format=` option of
/// qopt-import-calibration does: "auto" (or an empty string: guess from the
/// contents), "qopt", "tensorrt", "onnxruntime", "onnxruntime-cache",
/// "aimet" or "tpu-mlir". `outputFormat` is "qopt" (qopt's calibration JSON,
/// which keeps every field) or "tensorrt" (empty: "qopt").
///
/// On success calls `output` once with the whole converted text and returns
/// success. On failure (unknown format name, unreadable file, a file that
/// does not parse or validate, stats the output format cannot hold) calls
/// `error` once with a one-line message that names the file and, where it
/// applies, the line and the tensor, and returns failure. Either callback may
/// be NULL. The strings are valid only during the call.
MLIR_CAPI_EXPORTED MlirLogicalResult qoptCalibrationConvertFile(
    MlirStringRef path, MlirStringRef format, MlirStringRef outputFormat,
    MlirStringCallback output, MlirStringCallback error, void *userData);

/// As qoptCalibrationConvertFile, on the file contents `contents`;
/// `fileName` is used only in error messages.
MLIR_CAPI_EXPORTED MlirLogicalResult qoptCalibrationConvert(
    MlirStringRef contents, MlirStringRef fileName, MlirStringRef format,
    MlirStringRef outputFormat, MlirStringCallback output,
    MlirStringCallback error, void *userData);

/// The format `format=auto` would read `contents` as ("qopt", "tensorrt",
/// "onnxruntime", "onnxruntime-cache", "aimet", "tpu-mlir"), or an empty
/// string when no format matches. The returned string is static and
/// null-terminated.
MLIR_CAPI_EXPORTED MlirStringRef
qoptCalibrationDetectFormat(MlirStringRef contents);

#ifdef __cplusplus
}
#endif

#endif // QOPT_C_CALIBRATION_H
