//===- BadInputTest.cpp - Every reader's errors on bad input --------------===//
//
// Bad calibration files must give an error that names the file, the line (or
// the JSON path) and what is wrong, and must never crash. One test per kind
// of bad input, each across the formats where it can occur. The expected
// messages are the contract: they are what a user sees.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/CalibrationTable.h"

#include "gtest/gtest.h"

#include <string>

using namespace mlir::qopt;

namespace {

std::string input(const char *name) {
  return std::string(QOPT_CALIB_INPUTS) + "/" + name;
}

/// The error of parsing `contents`, or a test failure if it parses.
std::string errorOf(llvm::StringRef contents, CalibrationFormat format,
                    llvm::StringRef fileName = "calib.json") {
  llvm::Expected<CalibrationTable> table =
      parseCalibration(contents, fileName, format);
  if (table) {
    ADD_FAILURE() << "parsed without error:\n" << contents.str();
    return "";
  }
  return llvm::toString(table.takeError());
}

std::string fileErrorOf(const std::string &path, CalibrationFormat format) {
  llvm::Expected<CalibrationTable> table = readCalibrationFile(path, format);
  if (table) {
    ADD_FAILURE() << "read without error: " << path;
    return "";
  }
  return llvm::toString(table.takeError());
}

bool startsWith(const std::string &text, const std::string &prefix) {
  return llvm::StringRef(text).starts_with(prefix);
}

constexpr CalibrationFormat QOpt = CalibrationFormat::QOpt;
constexpr CalibrationFormat TRT = CalibrationFormat::TensorRT;
constexpr CalibrationFormat ORT = CalibrationFormat::OnnxRuntime;
constexpr CalibrationFormat AIMET = CalibrationFormat::Aimet;
constexpr CalibrationFormat TPU = CalibrationFormat::TpuMlir;
constexpr CalibrationFormat Auto = CalibrationFormat::Auto;

TEST(BadInput, MissingFile) {
  EXPECT_EQ(fileErrorOf("/nonexistent/dir/calib.json", Auto),
            "/nonexistent/dir/calib.json: cannot read the calibration file: "
            "No such file or directory");
}

TEST(BadInput, UnreadableFile) {
  // A directory opens but cannot be read as a file.
  std::string dir = QOPT_CALIB_INPUTS;
  std::string message = fileErrorOf(dir, QOpt);
  EXPECT_TRUE(startsWith(message, dir + ": cannot read the calibration file: "))
      << message;
}

TEST(BadInput, EmptyFile) {
  std::string path = input("empty.json");
  for (CalibrationFormat format : {Auto, QOpt, TRT, ORT, AIMET, TPU})
    EXPECT_EQ(fileErrorOf(path, format),
              path + ": the calibration file is empty");
  EXPECT_EQ(errorOf(" \n\t\r\n", TRT, "calib.cache"),
            "calib.cache: the calibration file is empty");
}

TEST(BadInput, TruncatedJson) {
  std::string path = input("bad-truncated.json");
  for (CalibrationFormat format : {Auto, QOpt}) {
    std::string message = fileErrorOf(path, format);
    EXPECT_TRUE(startsWith(message, path + ":4:")) << message;
    EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
  }
  for (CalibrationFormat format : {ORT, AIMET}) {
    std::string message = errorOf(
        "{\"version\": \"1.0.0\",\n\"activation_encodings\": [", format);
    EXPECT_TRUE(startsWith(message, "calib.json:2:")) << message;
    EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
  }
}

TEST(BadInput, DeeplyNestedJson) {
  // llvm::json::parse recurses per level; a hostile file must not overflow
  // the stack.
  std::string deep = "{\"qopt_calibration\": 1, \"tensors\":\n" +
                     std::string(100000, '[') + std::string(100000, ']') + "}";
  for (CalibrationFormat format : {Auto, QOpt, ORT, AIMET})
    EXPECT_EQ(errorOf(deep, format),
              "calib.json:2: invalid JSON: nested deeper than 256 levels");
  // Brackets inside strings do not count.
  std::string quoted = "{\"qopt_calibration\": 1, \"tensors\": {\"" +
                       std::string(1000, '[') +
                       "\": {\"min\": 0, \"max\": 1}}}";
  EXPECT_TRUE(bool(parseCalibration(quoted, "calib.json", QOpt)));
}

TEST(BadInput, FuzzerFindings) {
  // A JSON string ending in a backslash at the end of the file made the
  // nesting check read one byte past the buffer (found by the AIMET fuzzer
  // under AddressSanitizer).
  std::string path = input("fuzz-json-trailing-backslash.json");
  for (CalibrationFormat format : {Auto, QOpt, ORT, AIMET}) {
    std::string message = fileErrorOf(path, format);
    EXPECT_TRUE(startsWith(message, path + ":")) << message;
  }
}

TEST(BadInput, WrongTypes) {
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1,\n \"tensors\": {\n"
                    "  \"conv1\": {\"min\": \"zero\", \"max\": 1.0}}}",
                    Auto),
            "calib.json:3: tensors.conv1.min: expected a number, got a "
            "string");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1,\n \"tensors\": {\n"
                    "  \"conv1\": {\"axis\": 0, \"max\": [1, 2, 3],\n"
                    "   \"min\": [0, 1,\n \"2\"]}}}",
                    QOpt),
            "calib.json:5: tensors.conv1.min[2]: expected a number, got a "
            "string");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": [1]}", QOpt),
            "calib.json:1: tensors: expected an object, got an array");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": \"1\", \"tensors\": {}}", QOpt),
            "calib.json:1: qopt_calibration: expected an integer, got a "
            "string");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"min\": [0], \"max\": [1]}}}",
                    QOpt),
            "calib.json:2: tensors.a.min: expected a number, got an array "
            "(per-axis values need an \"axis\")");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"min\": 0, \"max\": 1, \"mx\": 2}}}",
                    QOpt),
            "calib.json:2: tensors.a.mx: unknown key 'mx' (expected axis, "
            "min, max, histogram, scale, zero_point, bits, symmetric, "
            "block_size)");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"min\": 0, \"max\": 1, \"bits\": 8.5}}}",
                    QOpt),
            "calib.json:2: tensors.a.bits: expected an integer, got 8.5");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 2, \"tensors\": {}}", QOpt),
            "calib.json:1: qopt_calibration: unsupported version 2; this "
            "qopt reads version 1");
  EXPECT_EQ(errorOf("{\"tensors\": {}}", QOpt),
            "calib.json:1: missing the version key \"qopt_calibration\": 1");

  // ONNX Runtime.
  EXPECT_EQ(errorOf("{\"x\": {\"lowest\": \"low\", \"highest\": 1}}", ORT),
            "calib.json:1: x.lowest: expected a number, got a string");
  EXPECT_EQ(errorOf("{\"x\": [1, 2, 3]}", ORT),
            "calib.json:1: x: expected [min, max], got an array of 3 values");
  EXPECT_EQ(errorOf("{\"x\": {\"highest\": 1}}", ORT),
            "calib.json:1: x: missing \"lowest\"");

  // AIMET.
  EXPECT_EQ(errorOf("{\"activation_encodings\": {\n\"a\": [{\"bitwidth\": "
                    "\"8\", \"min\": 0, \"max\": 1, \"scale\": 0.1, "
                    "\"offset\": 0}]}}",
                    AIMET),
            "calib.json:2: activation_encodings.a[0].bitwidth: expected an "
            "integer, got a string");
  EXPECT_EQ(errorOf("{\"activation_encodings\": {\n\"a\": [{\"bitwidth\": 8, "
                    "\"is_symmetric\": \"maybe\", \"min\": 0, \"max\": 1, "
                    "\"scale\": 0.1, \"offset\": 0}]}}",
                    AIMET),
            "calib.json:2: activation_encodings.a[0].is_symmetric: expected "
            "\"True\", \"False\" or a boolean, got a string");
  EXPECT_EQ(errorOf("{\"activation_encodings\": {\n\"a\": [{\"bitwidth\": 8, "
                    "\"min\": 0, \"max\": 1, \"scale\": 0.1, \"offset\": "
                    "-114.5}]}}",
                    AIMET),
            "calib.json:2: activation_encodings.a[0].offset: expected an "
            "integer, got -114.5");
  EXPECT_EQ(errorOf("{\"version\": \"1.0.0\", \"param_encodings\": [\n"
                    "{\"name\": \"w\", \"enc_type\": \"LPBQ\", \"bw\": 4, "
                    "\"scale\": [1], \"offset\": [0]}]}",
                    AIMET),
            "calib.json:2: param_encodings[0].enc_type: enc_type 'LPBQ' is "
            "not supported (qopt reads PER_TENSOR, PER_CHANNEL and "
            "PER_BLOCK)");
  EXPECT_EQ(errorOf("{\"version\": \"1.0.0\", \"param_encodings\": [\n"
                    "{\"name\": \"w\", \"enc_type\": \"PER_CHANNEL\", \"bw\": "
                    "8, \"scale\": [1, 2], \"offset\": [0]}]}",
                    AIMET),
            "calib.json:2: param_encodings[0].offset: has 1 offsets for 2 "
            "scales");
  EXPECT_EQ(errorOf("{\"version\": \"2.0.0\", \"encodings\": []}", AIMET),
            "calib.json:1: version: AIMET encoding version 2.0.0 is not "
            "supported (qopt reads 0.x and 1.0.0)");
  EXPECT_EQ(errorOf("{\"version\": \"0.6.1\"}", AIMET),
            "calib.json:1: no \"activation_encodings\" or "
            "\"param_encodings\" section");

  // Text formats: rows of the wrong shape.
  EXPECT_EQ(errorOf("TRT-8601-EntropyCalibration2\ninput 3c010204\n", TRT,
                    "calib.cache"),
            "calib.cache:2: expected 'name: hexbits', found 'input "
            "3c010204'");
  EXPECT_EQ(errorOf("input: 3c010204\n", TRT, "calib.cache"),
            "calib.cache:1: expected a TensorRT calibration cache header "
            "such as 'TRT-8601-EntropyCalibration2', found 'input: "
            "3c010204'");
  EXPECT_EQ(
      errorOf("# op_name threshold min max\nx 1.0 -1.0\n", TPU, "calib.table"),
      "calib.table:2: expected 'name threshold min max' in the int8 "
      "section, found 3 fields");
  EXPECT_EQ(errorOf("#weight_scale\nw 3 0.1 0.2\n", TPU, "calib.table"),
            "calib.table:2: tensor 'w': expected 'name N scale1 .. scaleN' "
            "in #weight_scale");
  EXPECT_EQ(errorOf("# t\nx 1.0 -1.0 one\n", TPU, "calib.table"),
            "calib.table:2: tensor 'x': max 'one' is not a number");
  EXPECT_EQ(errorOf("x 1.0\ny\n", ORT, "calib.cache"),
            "calib.cache:2: expected 'name amax', found 'y'");
  EXPECT_EQ(
      errorOf("x 0x10\n", CalibrationFormat::OnnxRuntimeCache, "calib.cache"),
      "calib.cache:1: tensor 'x': '0x10' is not a number");
}

TEST(BadInput, NanAndInf) {
  std::string message =
      errorOf("{\"qopt_calibration\": 1,\n \"tensors\": {\"a\": {\"min\": "
              "NaN, \"max\": 1}}}",
              QOpt);
  EXPECT_TRUE(startsWith(message, "calib.json:2:")) << message;
  EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1,\n \"tensors\": {\"a\": "
                    "{\"min\": 0, \"max\": 1e999}}}",
                    QOpt),
            "calib.json:2: tensors.a.max: value is not finite (inf)");
  EXPECT_EQ(errorOf("TRT-8601-EntropyCalibration2\nx: 7fc00000\n", TRT,
                    "calib.cache"),
            "calib.cache:2: tensor 'x': scale 7fc00000 decodes to nan; "
            "expected a positive finite float32");
  EXPECT_EQ(errorOf("TRT-8601-EntropyCalibration2\nx: 7f800000\n", TRT,
                    "calib.cache"),
            "calib.cache:2: tensor 'x': scale 7f800000 decodes to inf; "
            "expected a positive finite float32");
  EXPECT_EQ(errorOf("TRT-8601-EntropyCalibration2\nx: bf800000\n", TRT,
                    "calib.cache"),
            "calib.cache:2: tensor 'x': scale bf800000 decodes to -1.0; "
            "expected a positive finite float32");
  EXPECT_EQ(errorOf("x nan\n", ORT, "calib.cache"),
            "calib.cache:1: tensor 'x': amax is not finite (nan)");
  EXPECT_EQ(errorOf("x -inf\n", ORT, "calib.cache"),
            "calib.cache:1: tensor 'x': amax is not finite (-inf)");
  EXPECT_EQ(errorOf("# t\nx inf 0 1\n", TPU, "calib.table"),
            "calib.table:2: tensor 'x': threshold is not finite (inf)");
  EXPECT_EQ(errorOf("{\"version\": \"1.0.0\", \"activation_encodings\": [\n"
                    "{\"name\": \"a\", \"bw\": 8, \"scale\": [1e400], "
                    "\"offset\": [0]}]}",
                    AIMET),
            "calib.json:2: activation_encodings[0].scale[0]: value is not "
            "finite (inf)");
}

TEST(BadInput, MinGreaterThanMax) {
  // The example from the issue, word for word.
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1,\n \"tensors\": {\n"
                    "  \"conv1\": {\"min\": 2.5, \"max\": 1.0}\n }\n}\n",
                    Auto),
            "calib.json:3: tensor 'conv1': min (2.5) is greater than max "
            "(1.0)");
  std::string path = input("bad-min-gt-max.json");
  EXPECT_EQ(fileErrorOf(path, Auto),
            path + ":3: tensor 'conv1': min (2.5) is greater than max (1.0)");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n\n"
                    "\"w\": {\"axis\": 0, \"min\": [0, 3], \"max\": [1, 2]}}}",
                    QOpt),
            "calib.json:3: tensor 'w': min[1] (3.0) is greater than max[1] "
            "(2.0)");
  EXPECT_EQ(errorOf("# t\nx 1 5 2\n", TPU, "calib.table"),
            "calib.table:2: tensor 'x': min (5.0) is greater than max (2.0)");
  EXPECT_EQ(errorOf("{\"x\": [3, -3]}", ORT),
            "calib.json:1: tensor 'x': min (3.0) is greater than max (-3.0)");
  EXPECT_EQ(errorOf("{\"activation_encodings\": {\n\"a\": [{\"bitwidth\": 8, "
                    "\"min\": 1, \"max\": 0, \"scale\": 0.1, \"offset\": "
                    "0}]}}",
                    AIMET),
            "calib.json:2: tensor 'a': min (1.0) is greater than max (0.0)");
}

TEST(BadInput, NegativeCounts) {
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"min\": 0, \"max\": 1, \"histogram\": "
                    "{\"min\": 0, \"max\": 1, \"counts\": [1, -2]}}}}",
                    QOpt),
            "calib.json:2: tensor 'a': histogram count [1] is negative (-2)");
  EXPECT_EQ(errorOf("{\"r\": {\"lowest\": 0, \"highest\": 1,\n"
                    "\"hist\": [3, -1], \"bins\": [0, 0.5, 1]}}",
                    ORT),
            "calib.json:1: tensor 'r': histogram count [1] is negative (-1)");
}

TEST(BadInput, InconsistentHistogramBounds) {
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"min\": 0, \"max\": 1, \"histogram\": "
                    "{\"min\": 6, \"max\": 0, \"counts\": [1]}}}}",
                    QOpt),
            "calib.json:2: tensor 'a': histogram min (6.0) is not less than "
            "histogram max (0.0)");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"min\": 0, \"max\": 1, \"histogram\": "
                    "{\"min\": 0, \"max\": 1, \"counts\": []}}}}",
                    QOpt),
            "calib.json:2: tensor 'a': histogram has no bins");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"axis\": 0, \"min\": [0], \"max\": [1], "
                    "\"histogram\": {\"min\": 0, \"max\": 1, \"counts\": "
                    "[1]}}}}",
                    QOpt),
            "calib.json:2: tensor 'a': has a histogram but per-channel "
            "stats; histograms are per-tensor only");
  EXPECT_EQ(errorOf("{\"r\": {\"lowest\": 0, \"highest\": 1,\n"
                    "\"hist\": [3, 1], \"bins\": [0, 0.5, 1, 1.5]}}",
                    ORT),
            "calib.json:2: r.bins: has 4 edges for 2 bins; expected 3");
  EXPECT_EQ(errorOf("{\"r\": {\"lowest\": 0, \"highest\": 1,\n"
                    "\"hist\": [3, 1, 1], \"bins\": [0, 1, 4, 6]}}",
                    ORT),
            "calib.json:2: r.bins[1]: histogram edges are not evenly spaced "
            "(bin 0 is 1.0 wide, the average 2.0); qopt needs equal-width "
            "bins");
  EXPECT_EQ(errorOf("{\"r\": {\"lowest\": 0, \"highest\": 1,\n"
                    "\"hist\": [3], \"bins\": [1, 1]}}",
                    ORT),
            "calib.json:2: r.bins: histogram edges do not increase (first "
            "1.0, last 1.0)");
  EXPECT_EQ(errorOf("{\"r\": {\"lowest\": 0, \"highest\": 1,\n"
                    "\"hist\": [3, 1]}}",
                    ORT),
            "calib.json:2: r.hist: histogram counts without edges (\"bins\" "
            "or \"hist_edges\")");
}

TEST(BadInput, DuplicateNames) {
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"min\": 0, \"max\": 1},\n"
                    "\"a\": {\"min\": 0, \"max\": 2}}}",
                    QOpt),
            "calib.json:3: duplicate tensor name 'a' (first defined on line "
            "2)");
  EXPECT_EQ(errorOf("TRT-8601-EntropyCalibration2\nx: 3f800000\ny: "
                    "3f800000\nx: 40000000\n",
                    TRT, "calib.cache"),
            "calib.cache:4: duplicate tensor name 'x' (first defined on line "
            "2)");
  EXPECT_EQ(errorOf("x 1.0\nx 2.0\n", ORT, "calib.cache"),
            "calib.cache:2: duplicate tensor name 'x' (first defined on line "
            "1)");
  EXPECT_EQ(errorOf("{\"x\": [0, 1],\n\"x\": [0, 2]}", ORT),
            "calib.json:2: duplicate tensor name 'x' (first defined on line "
            "1)");
  EXPECT_EQ(errorOf("# t\nx 1 -1 1\ny 1 -1 1\nx 2 -2 2\n", TPU, "calib.table"),
            "calib.table:4: duplicate tensor name 'x' (first defined on line "
            "2)");
  EXPECT_EQ(errorOf("{\"version\": \"1.0.0\",\n\"activation_encodings\": [\n"
                    "{\"name\": \"a\", \"bw\": 8, \"scale\": [1], \"offset\": "
                    "[0]}],\n\"param_encodings\": [\n{\"name\": \"a\", \"bw\": "
                    "8, \"scale\": [1], \"offset\": [0]}]}",
                    AIMET),
            "calib.json:5: duplicate tensor name 'a' (first defined on line "
            "3)");
}

TEST(BadInput, HexOfTheWrongLength) {
  std::string path = input("bad-hex-length.cache");
  EXPECT_EQ(fileErrorOf(path, Auto),
            path + ":3: tensor 'conv1': scale '3c0102' is not 8 hex digits "
                   "(the bits of a float32)");
  EXPECT_EQ(errorOf("TRT-8601-EntropyCalibration2\nx: 3c0102040\n", TRT,
                    "calib.cache"),
            "calib.cache:2: tensor 'x': scale '3c0102040' is not 8 hex "
            "digits (the bits of a float32)");
  EXPECT_EQ(errorOf("TRT-8601-EntropyCalibration2\nx: 3c01020z\n", TRT,
                    "calib.cache"),
            "calib.cache:2: tensor 'x': scale '3c01020z' is not 8 hex digits "
            "(the bits of a float32)");
  EXPECT_EQ(errorOf("TRT-8601-EntropyCalibration2\nx: \n", TRT, "calib.cache"),
            "calib.cache:2: tensor 'x': scale '' is not 8 hex digits (the "
            "bits of a float32)");
}

TEST(BadInput, UnknownFormatForced) {
  EXPECT_EQ(parseCalibrationFormat("caffe"), std::nullopt);
  EXPECT_EQ(errorOf("x 1.0\n", static_cast<CalibrationFormat>(42)),
            "calib.json: unknown calibration format (enum value 42); use one "
            "of auto, qopt, tensorrt, onnxruntime, aimet, tpu-mlir");
  EXPECT_EQ(errorOf("hello world\n", Auto, "calib.txt"),
            "calib.txt: cannot tell the calibration format from the "
            "contents; name it with format=qopt|tensorrt|onnxruntime|aimet|"
            "tpu-mlir");
  // A format forced on another format's file fails in that format's terms.
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {}}", TRT),
            "calib.json:1: expected a TensorRT calibration cache header such "
            "as 'TRT-8601-EntropyCalibration2', found '{\"qopt_calibration\": "
            "1, \"tensors\": {}}'");
  EXPECT_EQ(errorOf("TRT-8601-EntropyCalibration2\nx: 3f800000\n", QOpt),
            "calib.json:1:1: invalid JSON: invalid JSON value");
}

TEST(BadInput, OtherValueErrors) {
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"min\": 0, \"max\": 1, \"scale\": 0}}}",
                    QOpt),
            "calib.json:2: tensor 'a': scale (0.0) is not a positive finite "
            "number");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"min\": 0, \"max\": 1, \"bits\": 0}}}",
                    QOpt),
            "calib.json:2: tensors.a.bits: bit width 0 is out of range (1 to "
            "32)");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"a\": {\"axis\": -1, \"min\": [0], \"max\": [1]}}}",
                    QOpt),
            "calib.json:2: tensor 'a': axis (-1) is negative");
  EXPECT_EQ(errorOf("{\"qopt_calibration\": 1, \"tensors\": {\n"
                    "\"\": {\"min\": 0, \"max\": 1}}}",
                    QOpt),
            "calib.json:2: a tensor has an empty name");
  EXPECT_EQ(errorOf("x -2.0\n", ORT, "calib.cache"),
            "calib.cache:1: tensor 'x': amax (-2.0) is negative");
  EXPECT_EQ(errorOf("# t\nx -1 0 1\n", TPU, "calib.table"),
            "calib.table:2: tensor 'x': threshold (-1.0) is negative");
}

} // namespace
