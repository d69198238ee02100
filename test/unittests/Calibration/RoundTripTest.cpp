//===- RoundTripTest.cpp - Export and re-import of calibration tables -----===//
//
// import -> export -> import must give identical stats: for qopt JSON every
// field of every reader's output (doubles printed so that they read back to
// the same bits), and for TensorRT caches the same float32 scales (and the
// same text).
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/CalibrationTable.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir::qopt;

namespace {

std::string input(const char *name) {
  return std::string(QOPT_CALIB_INPUTS) + "/" + name;
}

/// Bitwise equality, so that -0.0 != 0.0 and the last ulp counts.
bool sameBits(const std::vector<double> &a, const std::vector<double> &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0)
      return false;
  return true;
}

void expectSameStats(const TensorStats &a, const TensorStats &b) {
  SCOPED_TRACE(a.name);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.axis, b.axis);
  EXPECT_TRUE(sameBits(a.min, b.min));
  EXPECT_TRUE(sameBits(a.max, b.max));
  EXPECT_TRUE(sameBits(a.scale, b.scale));
  EXPECT_EQ(a.zeroPoint, b.zeroPoint);
  EXPECT_EQ(a.bits, b.bits);
  EXPECT_EQ(a.symmetric, b.symmetric);
  EXPECT_EQ(a.blockSize, b.blockSize);
  ASSERT_EQ(a.histogram.has_value(), b.histogram.has_value());
  if (a.histogram) {
    EXPECT_TRUE(sameBits({a.histogram->min}, {b.histogram->min}));
    EXPECT_TRUE(sameBits({a.histogram->max}, {b.histogram->max}));
    EXPECT_EQ(a.histogram->counts, b.histogram->counts);
  }
}

void expectSameTable(const CalibrationTable &a, const CalibrationTable &b) {
  EXPECT_EQ(a.producer, b.producer);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i)
    expectSameStats(a.tensors[i], b.tensors[i]);
}

std::string write(const CalibrationTable &table, CalibrationFormat format) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::Error error = writeCalibration(table, format, os);
  EXPECT_FALSE(bool(error)) << llvm::toString(std::move(error));
  return text;
}

CalibrationTable parseOk(llvm::StringRef text, CalibrationFormat format) {
  llvm::Expected<CalibrationTable> table =
      parseCalibration(text, "roundtrip", format);
  if (!table) {
    ADD_FAILURE() << llvm::toString(table.takeError()) << "\n" << text.str();
    return {};
  }
  return std::move(*table);
}

TEST(RoundTrip, EveryReaderThroughQOptJson) {
  for (const char *file :
       {"qopt-basic.json", "tensorrt-basic.cache", "ort-legacy.json",
        "ort-tensorsdata.json", "ort-tensordata-dict.json",
        "ort-calibration.cache", "aimet-legacy.json", "aimet-v1.json",
        "tpu-mlir.table"}) {
    SCOPED_TRACE(file);
    llvm::Expected<CalibrationTable> original =
        readCalibrationFile(input(file), CalibrationFormat::Auto);
    ASSERT_TRUE(bool(original)) << llvm::toString(original.takeError());
    std::string text = write(*original, CalibrationFormat::QOpt);
    CalibrationTable again = parseOk(text, CalibrationFormat::Auto);
    EXPECT_EQ(again.format, CalibrationFormat::QOpt);
    expectSameTable(*original, again);
    // And the second export prints the same text.
    EXPECT_EQ(write(again, CalibrationFormat::QOpt), text);
  }
}

TEST(RoundTrip, DoublesKeepEveryBit) {
  CalibrationTable table;
  TensorStats stats;
  stats.name = "awkward \"name\"\twith\\escapes \xc3\xa9";
  stats.min = {-0.1 - 0.2}; // -0.30000000000000004
  stats.max = {1.0 / 3.0};
  stats.histogram = Histogram{-std::numeric_limits<double>::denorm_min(),
                              std::numeric_limits<double>::max(),
                              {0, 1, 2}};
  table.tensors.push_back(stats);
  TensorStats tiny;
  tiny.name = "tiny";
  tiny.axis = 2;
  tiny.min = {-1e-300, -0.0, -123456789.123456789};
  tiny.max = {2.2250738585072014e-308, 0.0, 9007199254740993.0};
  tiny.scale = {5e-324, 0.1, 1e300};
  tiny.zeroPoint = {-5, 0, std::numeric_limits<int64_t>::max()};
  table.tensors.push_back(tiny);

  std::string text = write(table, CalibrationFormat::QOpt);
  CalibrationTable again = parseOk(text, CalibrationFormat::QOpt);
  expectSameTable(table, again);
}

TEST(RoundTrip, TensorRTCacheKeepsScalesAndText) {
  auto buffer = llvm::MemoryBuffer::getFile(input("tensorrt-basic.cache"));
  ASSERT_TRUE(bool(buffer));
  CalibrationTable table =
      parseOk((*buffer)->getBuffer(), CalibrationFormat::TensorRT);
  std::string text = write(table, CalibrationFormat::TensorRT);
  // The file was written the way TensorRT writes caches, so the export is
  // the same text.
  EXPECT_EQ(text, (*buffer)->getBuffer().str());
  expectSameTable(table, parseOk(text, CalibrationFormat::TensorRT));
}

TEST(RoundTrip, TensorRTExportOfARange) {
  // amax = max(|-1|, |2.54|) = 2.54; 2.54 / 127 = 0.02, whose float32 is
  // 0x3ca3d70a (sign 0, exponent 121 - 127 = -6, mantissa 0x23d70a).
  CalibrationTable table;
  table.producer = "not TensorRT";
  TensorStats stats;
  stats.name = "t";
  stats.min = {-1.0};
  stats.max = {2.54};
  table.tensors.push_back(stats);
  std::string text = write(table, CalibrationFormat::TensorRT);
  EXPECT_EQ(text, "TRT-8601-EntropyCalibration2\nt: 3ca3d70a\n");
  CalibrationTable again = parseOk(text, CalibrationFormat::Auto);
  ASSERT_EQ(again.tensors.size(), 1u);
  double scale = std::ldexp(1.0 + 0x23d70a / 8388608.0, -6);
  EXPECT_EQ(again.tensors[0].scale, std::vector<double>{scale});
  EXPECT_EQ(again.tensors[0].max, std::vector<double>{scale * 127});
}

TEST(RoundTrip, WriterRefusals) {
  CalibrationTable table;
  TensorStats perAxis;
  perAxis.name = "w";
  perAxis.axis = 0;
  perAxis.min = {-1, -2};
  perAxis.max = {1, 2};
  table.tensors.push_back(perAxis);
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::Error error = writeCalibration(table, CalibrationFormat::TensorRT, os);
  ASSERT_TRUE(bool(error));
  EXPECT_EQ(llvm::toString(std::move(error)),
            "tensor 'w' has per-axis stats; a TensorRT calibration cache "
            "holds one scale per tensor");

  error = writeCalibration(table, CalibrationFormat::Aimet, os);
  ASSERT_TRUE(bool(error));
  EXPECT_EQ(llvm::toString(std::move(error)),
            "cannot write calibration format 'aimet'; qopt writes only "
            "'qopt' and 'tensorrt'");

  // An all-zero range has no TensorRT scale.
  CalibrationTable zero;
  TensorStats z;
  z.name = "z";
  z.min = {0};
  z.max = {0};
  zero.tensors.push_back(z);
  error = writeCalibration(zero, CalibrationFormat::TensorRT, os);
  ASSERT_TRUE(bool(error));
  EXPECT_NE(llvm::toString(std::move(error)).find("cannot hold"),
            std::string::npos);

  // Invalid tables are not written.
  TensorStats bad;
  bad.name = "bad";
  bad.min = {2.5};
  bad.max = {1.0};
  CalibrationTable invalid;
  invalid.tensors.push_back(bad);
  error = writeCalibration(invalid, CalibrationFormat::QOpt, os);
  ASSERT_TRUE(bool(error));
  EXPECT_EQ(llvm::toString(std::move(error)),
            "<calibration table>: tensor 'bad': min (2.5) is greater than "
            "max (1.0)");
  EXPECT_TRUE(text.empty());
}

} // namespace
