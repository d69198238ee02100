//===- ReadersTest.cpp - Tests of the calibration file readers ------------===//
//
// Each reader on small files written for the tests (test/Calibration/Inputs),
// with the expected values worked out by hand from the file contents, and
// the content sniffer of format=auto.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/CalibrationTable.h"

#include "llvm/Support/MemoryBuffer.h"
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

TEST(OnnxRuntimeReader, OlderMinMaxPairs) {
  CalibrationTable table = readOk("ort-legacy.json");
  EXPECT_EQ(table.format, CalibrationFormat::OnnxRuntime);
  ASSERT_EQ(table.tensors.size(), 2u);
  EXPECT_EQ(table.tensors[0].name, "input");
  EXPECT_EQ(table.tensors[0].min, std::vector<double>{-1.0});
  EXPECT_EQ(table.tensors[0].max, std::vector<double>{2.5});
  EXPECT_EQ(table.tensors[1].name, "conv1_out");
  EXPECT_EQ(table.tensors[1].min, std::vector<double>{0.0});
  EXPECT_EQ(table.tensors[1].max, std::vector<double>{6.0});
}

TEST(OnnxRuntimeReader, TensorsDataWithHistograms) {
  CalibrationTable table = readOk("ort-tensorsdata.json");
  EXPECT_EQ(table.format, CalibrationFormat::OnnxRuntime);
  EXPECT_EQ(table.producer, "onnxruntime CalibrationMethod.Entropy");
  ASSERT_EQ(table.tensors.size(), 4u);

  const TensorStats &in = table.tensors[0];
  EXPECT_EQ(in.name, "input");
  EXPECT_EQ(in.line, 3u);
  EXPECT_EQ(in.min, std::vector<double>{-1.5});
  EXPECT_EQ(in.max, std::vector<double>{2.0});
  EXPECT_FALSE(in.histogram);

  // Entropy/percentile output: counts in "hist", edges in "bins".
  const TensorStats &relu = table.tensors[1];
  EXPECT_EQ(relu.name, "relu");
  EXPECT_EQ(relu.min, std::vector<double>{0.0});
  EXPECT_EQ(relu.max, std::vector<double>{3.0});
  ASSERT_TRUE(relu.histogram);
  EXPECT_EQ(relu.histogram->min, -4.0);
  EXPECT_EQ(relu.histogram->max, 4.0);
  EXPECT_EQ(relu.histogram->counts, (std::vector<int64_t>{4, 0, 2, 1}));

  // Per-channel: ONNX Runtime keeps axis 1.
  const TensorStats &w = table.tensors[2];
  EXPECT_EQ(w.axis, 1);
  EXPECT_EQ(w.min, (std::vector<double>{-0.5, -0.25, -1.0}));

  // Distribution output: edges in "hist_edges".
  const TensorStats &dist = table.tensors[3];
  ASSERT_TRUE(dist.histogram);
  EXPECT_EQ(dist.histogram->min, -1.0);
  EXPECT_EQ(dist.histogram->max, 1.0);
  EXPECT_EQ(dist.histogram->counts, (std::vector<int64_t>{1, 2}));
}

TEST(OnnxRuntimeReader, UnwrappedTensorDataDict) {
  CalibrationTable table = readOk("ort-tensordata-dict.json");
  ASSERT_EQ(table.tensors.size(), 2u);
  EXPECT_EQ(table.tensors[0].min, std::vector<double>{-0.25});
  EXPECT_EQ(table.tensors[0].max, std::vector<double>{0.75});
  EXPECT_EQ(table.tensors[1].min, std::vector<double>{-8.0});
  EXPECT_EQ(table.tensors[1].max, std::vector<double>{8.0});
}

TEST(OnnxRuntimeReader, PlainCache) {
  CalibrationTable table = readOk("ort-calibration.cache");
  EXPECT_EQ(table.format, CalibrationFormat::OnnxRuntimeCache);
  ASSERT_EQ(table.tensors.size(), 3u);
  EXPECT_EQ(table.tensors[0].name, "conv1_out");
  EXPECT_EQ(table.tensors[0].min, std::vector<double>{-6.0});
  EXPECT_EQ(table.tensors[0].max, std::vector<double>{6.0});
  EXPECT_EQ(table.tensors[0].symmetric, true);
  EXPECT_EQ(table.tensors[1].max, std::vector<double>{2.5});
  // Names may hold spaces; the value is the last field.
  EXPECT_EQ(table.tensors[2].name, "(Unnamed Layer* 1) [Shuffle]_output");
  EXPECT_EQ(table.tensors[2].max, std::vector<double>{1e-05});
  EXPECT_EQ(table.tensors[2].line, 3u);
  // format=onnxruntime covers the cache too.
  CalibrationTable forced =
      readOk("ort-calibration.cache", CalibrationFormat::OnnxRuntime);
  EXPECT_EQ(forced.format, CalibrationFormat::OnnxRuntimeCache);
  EXPECT_EQ(forced.tensors.size(), 3u);
}

TEST(AimetReader, LegacyDictionaryForm) {
  CalibrationTable table = readOk("aimet-legacy.json");
  EXPECT_EQ(table.format, CalibrationFormat::Aimet);
  // The float16 activation carries no range and is skipped.
  ASSERT_EQ(table.tensors.size(), 2u);

  const TensorStats &act = table.tensors[0];
  EXPECT_EQ(act.name, "20");
  EXPECT_EQ(act.line, 4u);
  EXPECT_FALSE(act.axis);
  EXPECT_EQ(act.min, std::vector<double>{-2.109158515930176});
  EXPECT_EQ(act.max, std::vector<double>{2.6086959838867188});
  EXPECT_EQ(act.scale, std::vector<double>{0.018501389771699905});
  // AIMET's offset is -zero point.
  EXPECT_EQ(act.zeroPoint, std::vector<int64_t>{114});
  EXPECT_EQ(act.bits, 8u);
  EXPECT_EQ(act.symmetric, false);

  const TensorStats &w = table.tensors[1];
  EXPECT_EQ(w.name, "conv2.weight");
  EXPECT_EQ(w.axis, 0);
  EXPECT_EQ(w.min, (std::vector<double>{-1.536, -1.92}));
  EXPECT_EQ(w.max, (std::vector<double>{1.524, 1.905}));
  EXPECT_EQ(w.scale, (std::vector<double>{0.012, 0.015}));
  EXPECT_EQ(w.zeroPoint, (std::vector<int64_t>{128, 128}));
  EXPECT_EQ(w.symmetric, true);
}

TEST(AimetReader, Version1ListForm) {
  CalibrationTable table = readOk("aimet-v1.json");
  EXPECT_EQ(table.producer, "aimet encodings 1.0.0");
  ASSERT_EQ(table.tensors.size(), 4u);

  // real = scale * (q + offset), q in [0, 2^bw - 1].
  const TensorStats &in = table.tensors[0];
  EXPECT_EQ(in.name, "input");
  EXPECT_EQ(in.line, 4u);
  EXPECT_EQ(in.scale, std::vector<double>{0.03125});
  EXPECT_EQ(in.zeroPoint, std::vector<int64_t>{0});
  EXPECT_EQ(in.min, std::vector<double>{0.0});
  EXPECT_EQ(in.max, std::vector<double>{0.03125 * 255});

  const TensorStats &act16 = table.tensors[1];
  EXPECT_EQ(act16.bits, 16u);
  EXPECT_EQ(act16.zeroPoint, std::vector<int64_t>{32768});
  ASSERT_EQ(act16.min.size(), 1u);
  EXPECT_DOUBLE_EQ(act16.min[0], -3.2768);
  EXPECT_DOUBLE_EQ(act16.max[0], 3.2767);

  const TensorStats &w = table.tensors[2];
  EXPECT_EQ(w.name, "conv1.weight");
  EXPECT_EQ(w.line, 11u);
  EXPECT_EQ(w.axis, 0);
  EXPECT_EQ(w.bits, 4u);
  EXPECT_EQ(w.zeroPoint, (std::vector<int64_t>{8, 8, 8}));
  // 4 bits: q in [0, 15]; min = -8 s, max = 7 s.
  EXPECT_EQ(w.min, (std::vector<double>{-4.0, -2.0, -1.0}));
  EXPECT_EQ(w.max, (std::vector<double>{3.5, 1.75, 0.875}));

  const TensorStats &blocks = table.tensors[3];
  EXPECT_EQ(blocks.name, "linear.weight");
  EXPECT_EQ(blocks.blockSize, 2);
  EXPECT_EQ(blocks.axis, 0);
  EXPECT_EQ(blocks.zeroPoint, (std::vector<int64_t>{128, 120, 0, 255}));
  EXPECT_EQ(blocks.min, (std::vector<double>{-32.0, -60.0, 0.0, -510.0}));
  EXPECT_EQ(blocks.max, (std::vector<double>{31.75, 67.5, 255.0, 0.0}));
}

TEST(AimetReader, Version1AxisOverride) {
  // QAIRT's quantization overrides add "axis" to 1.0.0 entries.
  llvm::Expected<CalibrationTable> table = parseCalibration(
      "{\"version\": \"1.0.0\", \"param_encodings\": [{\"name\": \"w\", "
      "\"enc_type\": \"PER_CHANNEL\", \"bw\": 8, \"is_sym\": true, "
      "\"scale\": [0.5, 0.25], \"offset\": [-128, -128], \"axis\": 1, "
      "\"min\": [-64.0, -32.0], \"max\": [63.5, 31.75]}]}",
      "w.encodings", CalibrationFormat::Auto);
  ASSERT_TRUE(bool(table)) << llvm::toString(table.takeError());
  ASSERT_EQ(table->tensors.size(), 1u);
  EXPECT_EQ(table->tensors[0].axis, 1);
  EXPECT_EQ(table->tensors[0].min, (std::vector<double>{-64.0, -32.0}));
  EXPECT_EQ(table->tensors[0].max, (std::vector<double>{63.5, 31.75}));
}

TEST(TpuMlirReader, SectionsAndRows) {
  CalibrationTable table = readOk("tpu-mlir.table");
  EXPECT_EQ(table.format, CalibrationFormat::TpuMlir);
  EXPECT_EQ(table.producer, "tpu-mlir v1.9-20240101 cali version 1.0");
  ASSERT_EQ(table.tensors.size(), 7u);

  const TensorStats &images = table.tensors[0];
  EXPECT_EQ(images.name, "images");
  EXPECT_EQ(images.line, 9u);
  EXPECT_EQ(images.min, std::vector<double>{0.0});
  EXPECT_EQ(images.max, std::vector<double>{1.000008});
  EXPECT_EQ(images.scale, std::vector<double>{1.000008 / 127});
  EXPECT_EQ(images.bits, 8u);
  EXPECT_EQ(images.symmetric, true);

  // The int8 row wins over the #int4_th row of the same tensor.
  const TensorStats *conv = table.lookup("122_Conv");
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->line, 10u);
  EXPECT_EQ(conv->scale, std::vector<double>{56.4281803 / 127});
  EXPECT_EQ(conv->min, std::vector<double>{-102.5830231});

  // A zero threshold gives no scale.
  const TensorStats *dead = table.lookup("dead_output");
  ASSERT_TRUE(dead);
  EXPECT_TRUE(dead->scale.empty());
  EXPECT_EQ(dead->max, std::vector<double>{0.0});

  const TensorStats *int4 = table.lookup("int4_only");
  ASSERT_TRUE(int4);
  EXPECT_EQ(int4->bits, 4u);
  EXPECT_EQ(int4->scale, std::vector<double>{0.5}); // 3.5 / 7

  const TensorStats *w = table.lookup("122_Conv_weight");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->axis, 0);
  EXPECT_EQ(w->scale, (std::vector<double>{0.01, 0.02, 0.015}));
  EXPECT_EQ(w->zeroPoint, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(w->min,
            (std::vector<double>{0.01 * -128, 0.02 * -128, 0.015 * -128}));

  const TensorStats *fc = table.lookup("fc_weight");
  ASSERT_TRUE(fc);
  EXPECT_EQ(fc->zeroPoint, (std::vector<int64_t>{1, -3}));
  // [-128, 127] around the zero point: 0.5 * (-129), 0.25 * (-125).
  EXPECT_EQ(fc->min, (std::vector<double>{-64.5, -31.25}));
  EXPECT_EQ(fc->max, (std::vector<double>{63.0, 32.5}));
}

TEST(Sniffing, EachFormatFromItsContents) {
  struct Case {
    const char *file;
    CalibrationFormat format;
  } cases[] = {
      {"qopt-basic.json", CalibrationFormat::QOpt},
      {"tensorrt-basic.cache", CalibrationFormat::TensorRT},
      {"ort-legacy.json", CalibrationFormat::OnnxRuntime},
      {"ort-tensorsdata.json", CalibrationFormat::OnnxRuntime},
      {"ort-tensordata-dict.json", CalibrationFormat::OnnxRuntime},
      {"ort-calibration.cache", CalibrationFormat::OnnxRuntimeCache},
      {"aimet-legacy.json", CalibrationFormat::Aimet},
      {"aimet-v1.json", CalibrationFormat::Aimet},
      {"tpu-mlir.table", CalibrationFormat::TpuMlir},
  };
  for (const Case &c : cases) {
    auto buffer = llvm::MemoryBuffer::getFile(input(c.file));
    ASSERT_TRUE(bool(buffer)) << c.file;
    EXPECT_EQ(sniffCalibrationFormat((*buffer)->getBuffer()), c.format)
        << c.file;
    CalibrationTable table = readOk(c.file, CalibrationFormat::Auto);
    EXPECT_EQ(table.format, c.format) << c.file;
  }
  // Not the file name: a TensorRT cache named .json is still TensorRT.
  EXPECT_EQ(sniffCalibrationFormat("TRT-8601-MinMaxCalibration\nx: 3f800000\n"),
            CalibrationFormat::TensorRT);
  // TPU-MLIR rows without a header, ONNX Runtime rows.
  EXPECT_EQ(sniffCalibrationFormat("a 1.0 -2.0 3.0\n"),
            CalibrationFormat::TpuMlir);
  EXPECT_EQ(sniffCalibrationFormat("a 1.0\n"),
            CalibrationFormat::OnnxRuntimeCache);
  EXPECT_EQ(sniffCalibrationFormat("hello world\n"), CalibrationFormat::Auto);
  EXPECT_EQ(sniffCalibrationFormat(""), CalibrationFormat::Auto);
  EXPECT_EQ(sniffCalibrationFormat("{\"other\": {\"a\": 1}}"),
            CalibrationFormat::Auto);
}

TEST(FormatNames, ParseAndPrint) {
  for (CalibrationFormat format :
       {CalibrationFormat::Auto, CalibrationFormat::QOpt,
        CalibrationFormat::TensorRT, CalibrationFormat::OnnxRuntime,
        CalibrationFormat::OnnxRuntimeCache, CalibrationFormat::Aimet,
        CalibrationFormat::TpuMlir})
    EXPECT_EQ(parseCalibrationFormat(stringifyCalibrationFormat(format)),
              format);
  EXPECT_EQ(parseCalibrationFormat("tpu-mlir"), CalibrationFormat::TpuMlir);
  EXPECT_EQ(parseCalibrationFormat("caffe"), std::nullopt);
  EXPECT_EQ(parseCalibrationFormat(""), std::nullopt);
}

} // namespace
