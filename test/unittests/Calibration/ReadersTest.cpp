//===- ReadersTest.cpp - Tests of the calibration file readers ------------===//
//
// Each reader on small files written for the tests (test/Calibration/Inputs),
// with the expected values worked out by hand from the file contents, and
// the content sniffer of format=auto.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/CalibrationTable.h"

#include "gtest/gtest.h"

#include <cmath>
#include <string>

using namespace mlir::qopt;

namespace {

std::string input(const char *name) {
  return std::string(QOPT_CALIB_INPUTS) + "/" + name;
}

/// Reads a test input or fails the test with the reader's message.
CalibrationTable readOk(const char *name,
                        CalibrationFormat format = CalibrationFormat::Auto) {
  llvm::Expected<CalibrationTable> table =
      readCalibrationFile(input(name), format);
  if (!table) {
    ADD_FAILURE() << llvm::toString(table.takeError());
    return {};
  }
  return std::move(*table);
}

/// The float32 whose bits are `sign/exponent/mantissa`, worked out by hand.
double float32(int exponent, uint32_t mantissa) {
  return std::ldexp(1.0 + mantissa / 8388608.0, exponent);
}

TEST(QOptJsonReader, ReadsEveryField) {
  CalibrationTable table = readOk("qopt-basic.json");
  EXPECT_EQ(table.format, CalibrationFormat::QOpt);
  EXPECT_EQ(table.producer, "hand-written test");
  ASSERT_EQ(table.tensors.size(), 4u);
  // File order, not the hash order of a JSON object.
  EXPECT_EQ(table.tensors[0].name, "input");
  EXPECT_EQ(table.tensors[1].name, "conv1.weight");
  EXPECT_EQ(table.tensors[2].name, "relu1");
  EXPECT_EQ(table.tensors[3].name, "fc.weight");

  const TensorStats *in = table.lookup("input");
  ASSERT_TRUE(in);
  EXPECT_FALSE(in->axis);
  EXPECT_EQ(in->min, std::vector<double>{-1.0});
  EXPECT_EQ(in->max, std::vector<double>{2.5});
  EXPECT_EQ(in->line, 5u);
  EXPECT_TRUE(in->scale.empty());

  const TensorStats *w = table.lookup("conv1.weight");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->axis, 0);
  EXPECT_EQ(w->min, (std::vector<double>{-0.5, -0.25, -1.0}));
  EXPECT_EQ(w->max, (std::vector<double>{0.5, 0.75, 0.125}));
  EXPECT_EQ(w->line, 6u);

  const TensorStats *relu = table.lookup("relu1");
  ASSERT_TRUE(relu && relu->histogram);
  EXPECT_EQ(relu->histogram->min, 0.0);
  EXPECT_EQ(relu->histogram->max, 6.0);
  EXPECT_EQ(relu->histogram->counts,
            (std::vector<int64_t>{10, 20, 30, 0, 5, 1}));

  const TensorStats *fc = table.lookup("fc.weight");
  ASSERT_TRUE(fc);
  EXPECT_EQ(fc->scale, (std::vector<double>{0.01, 0.02}));
  EXPECT_EQ(fc->zeroPoint, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(fc->bits, 8u);
  EXPECT_EQ(fc->symmetric, true);
  EXPECT_EQ(fc->blockSize, 16);
  EXPECT_EQ(table.lookup("nope"), nullptr);
}

TEST(TensorRTReader, DecodesFloat32Scales) {
  CalibrationTable table = readOk("tensorrt-basic.cache");
  EXPECT_EQ(table.format, CalibrationFormat::TensorRT);
  EXPECT_EQ(table.producer, "TRT-8601-EntropyCalibration2");
  ASSERT_EQ(table.tensors.size(), 3u);

  // 0x3c010204: exponent 0x78 - 127 = -7, mantissa 0x010204 = 66052.
  const TensorStats &first = table.tensors[0];
  EXPECT_EQ(first.name, "input.1");
  EXPECT_EQ(first.line, 2u);
  double scale = float32(-7, 66052);
  EXPECT_EQ(first.scale, std::vector<double>{scale});
  EXPECT_EQ(first.zeroPoint, std::vector<int64_t>{0});
  EXPECT_EQ(first.max, std::vector<double>{scale * 127});
  EXPECT_EQ(first.min, std::vector<double>{-scale * 127});
  EXPECT_EQ(first.bits, 8u);
  EXPECT_EQ(first.symmetric, true);

  // Names keep their spaces and colons; the value follows the last ": ".
  EXPECT_EQ(table.tensors[1].name, "(Unnamed Layer* 3) [Constant]_output");
  EXPECT_EQ(table.tensors[1].scale, std::vector<double>{1.0});
  EXPECT_EQ(table.tensors[2].name, "conv:1");
  EXPECT_EQ(table.tensors[2].max, std::vector<double>{254.0});
}

} // namespace
