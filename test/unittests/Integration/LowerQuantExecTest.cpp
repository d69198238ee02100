//===- LowerQuantExecTest.cpp - run qopt-lower-quant's code -----*- C++ -*-===//
//
// The proof that qopt-lower-quant's arithmetic is the numerics contract: small
// functions of quant.qcast / quant.dcast / qopt.requantize are lowered by the
// pass, compiled to native code through upstream's LLVM lowering and MLIR's
// JIT, run on many inputs (random values, ties, and the int32 extremes), and
// compared element by element with the scalar references: lib/Quant's
// MultiplyByQuantizedMultiplier and quantizeF32 (themselves tested against
// published definitions in test/unittests/Quant), and the float
// requantization definition written out here.
//
//===----------------------------------------------------------------------===//

#include "Jit.h"

#include "qopt/Quant/FixedPoint.h"
#include "qopt/Quant/QuantParams.h"

#include <cmath>
#include <limits>
#include <random>

using namespace mlir;
using qopt_test::Jit;
using qopt_test::wrap;

namespace {

std::vector<int32_t> interestingInt32Inputs(size_t randomCount) {
  std::vector<int32_t> values = {0,
                                 1,
                                 -1,
                                 2,
                                 -2,
                                 INT32_MAX,
                                 INT32_MIN,
                                 INT32_MAX - 1,
                                 INT32_MIN + 1,
                                 1 << 30,
                                 -(1 << 30),
                                 (1 << 24) + 1,
                                 -(1 << 24) - 1};
  // Exact ties of the rounding shifts: multiples of 2^k plus 2^(k-1).
  for (int k = 1; k < 31; ++k) {
    values.push_back((1 << (k - 1)) * 3);
    values.push_back(-(1 << (k - 1)) * 3);
  }
  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> full(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int32_t> small(-100000, 100000);
  for (size_t i = 0; i < randomCount; ++i)
    values.push_back(i % 2 ? full(rng) : small(rng));
  return values;
}

struct RequantCase {
  double inScale, outScale;
  int64_t outZeroPoint;
};

std::string requantType(double scale, int64_t zp, StringRef storage) {
  return llvm::formatv("!quant.uniform<{0}:f32, {1:e17}:{2}>", storage, scale,
                       zp)
      .str();
}

// Fixed-point requantization of an i32 accumulator to i8, per tensor, over
// multipliers below and above 1 and near the edges of the Q31 format.
TEST(LowerQuantExecTest, FixedPointRequantizeMatchesTFLiteReference) {
  std::vector<RequantCase> cases = {
      {0.001, 0.05, -3},      {1.0, 1.0, 0},          {0.5, 1.0, 5},
      {3.0, 1.0, 0},          {1e-9, 1.0, 0},         {0.9999999999, 1.0, 0},
      {1.0 / 3.0, 1.0, -128}, {0.000123, 0.0789, 17}, {7.5, 0.0039, 127},
      {2.0e-6, 0.02, 0},      {1.0, 0.0078125, -1},   {12345.0, 1.0, 0}};
  std::string source;
  for (auto [i, c] : llvm::enumerate(cases)) {
    std::string acc = requantType(c.inScale, 0, "i32");
    std::string out = requantType(c.outScale, c.outZeroPoint, "i8");
    std::string body = llvm::formatv(R"mlir(
  %a = quant.scast %t : tensor<?xi32> to tensor<?x{0}>
  %q = qopt.requantize %a : tensor<?x{0}> to tensor<?x{1}>
  %r = quant.scast %q : tensor<?x{1}> to tensor<?xi8>)mlir",
                                     acc, out)
                           .str();
    source += wrap(llvm::formatv("f{0}", i).str(), "i32", "i8", body);
  }
  Jit jit(source, "qopt-lower-quant");
  ASSERT_TRUE(jit.error.empty()) << jit.error;

  std::vector<int32_t> inputs = interestingInt32Inputs(200000);
  size_t compared = 0;
  for (auto [i, c] : llvm::enumerate(cases)) {
    std::vector<int8_t> outputs(inputs.size());
    jit.run(llvm::formatv("f{0}", i).str(), inputs, outputs);
    // The type stores the scales as doubles; the multiplier is their ratio.
    auto m = qopt::quantizeMultiplier(c.inScale / c.outScale);
    ASSERT_TRUE(bool(m)) << llvm::toString(m.takeError());
    for (size_t k = 0; k < inputs.size(); ++k) {
      int64_t expected =
          int64_t(qopt::multiplyByQuantizedMultiplier(inputs[k], *m)) +
          c.outZeroPoint;
      expected = std::clamp<int64_t>(expected, -128, 127);
      ASSERT_EQ(outputs[k], expected) << "case " << i << " input " << inputs[k];
      ++compared;
    }
  }
  EXPECT_EQ(compared, cases.size() * inputs.size());
}

// i8 to i8 with zero points on both sides, and per-channel accumulators.
TEST(LowerQuantExecTest, FixedPointRequantizeZeroPointsAndChannels) {
  std::string in8 = requantType(0.02, -7, "i8");
  std::string out8 = requantType(0.05, 9, "i8");
  std::string source = wrap("i8toi8", "i8", "i8",
                            llvm::formatv(R"mlir(
  %a = quant.scast %t : tensor<?xi8> to tensor<?x{0}>
  %q = qopt.requantize %a : tensor<?x{0}> to tensor<?x{1}>
  %r = quant.scast %q : tensor<?x{1}> to tensor<?xi8>)mlir",
                                          in8, out8)
                                .str());
  // Per axis: channel c of a ?x3 accumulator has scale s[c].
  const double channelScales[3] = {0.001, 0.0027, 0.00041};
  std::string perAxis =
      llvm::formatv("!quant.uniform<i32:f32:1, {{{0:e17},{1:e17},{2:e17}}>",
                    channelScales[0], channelScales[1], channelScales[2]);
  std::string out = requantType(0.04, -3, "i8");
  source += llvm::formatv(R"mlir(
func.func @perchannel(%in: memref<?xi32>, %out: memref<?xi8>) attributes {{llvm.emit_c_interface} {{
  %t = bufferization.to_tensor %in restrict : memref<?xi32> to tensor<?xi32>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %t, %c0 : tensor<?xi32>
  %c3 = arith.constant 3 : index
  %rows = arith.divui %n, %c3 : index
  %m = tensor.expand_shape %t [[0, 1]] output_shape [%rows, 3] : tensor<?xi32> into tensor<?x3xi32>
  %a = quant.scast %m : tensor<?x3xi32> to tensor<?x3x{0}>
  %q = qopt.requantize %a : tensor<?x3x{0}> to tensor<?x3x{1}>
  %i = quant.scast %q : tensor<?x3x{1}> to tensor<?x3xi8>
  %r = tensor.collapse_shape %i [[0, 1]] : tensor<?x3xi8> into tensor<?xi8>
  bufferization.materialize_in_destination %r in restrict writable %out : (tensor<?xi8>, memref<?xi8>) -> ()
  return
}
)mlir",
                          perAxis, out)
                .str();
  Jit jit(source, "qopt-lower-quant");
  ASSERT_TRUE(jit.error.empty()) << jit.error;

  std::vector<int8_t> bytes;
  for (int v = -128; v <= 127; ++v)
    bytes.push_back(static_cast<int8_t>(v));
  std::vector<int8_t> outBytes(bytes.size());
  jit.run("i8toi8", bytes, outBytes);
  auto m8 = qopt::quantizeMultiplier(0.02 / 0.05);
  ASSERT_TRUE(bool(m8));
  for (size_t k = 0; k < bytes.size(); ++k) {
    int64_t expected =
        qopt::multiplyByQuantizedMultiplier(int32_t(bytes[k]) + 7, *m8) + 9;
    EXPECT_EQ(outBytes[k], std::clamp<int64_t>(expected, -128, 127))
        << "input " << int(bytes[k]);
  }

  std::vector<int32_t> inputs = interestingInt32Inputs(60000);
  inputs.resize(inputs.size() / 3 * 3);
  std::vector<int8_t> outputs(inputs.size());
  jit.run("perchannel", inputs, outputs);
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto m = qopt::quantizeMultiplier(channelScales[k % 3] / 0.04);
    ASSERT_TRUE(bool(m));
    int64_t expected =
        int64_t(qopt::multiplyByQuantizedMultiplier(inputs[k], *m)) - 3;
    ASSERT_EQ(outputs[k], std::clamp<int64_t>(expected, -128, 127))
        << "input " << inputs[k] << " channel " << k % 3;
  }
}

// Float requantization (ONNX Runtime's QLinear* semantics): the definition
// written out here, independently of the lowering: m = f32(s_in) / f32(s_out)
// in float32, y = saturate(nearbyint(float(x) * m) + zp).
TEST(LowerQuantExecTest, FloatRequantizeMatchesDefinition) {
  const double sIn = 0.00012345, sOut = 0.0421;
  const int64_t zp = -5;
  std::string source = wrap("f", "i32", "i8",
                            llvm::formatv(R"mlir(
  %a = quant.scast %t : tensor<?xi32> to tensor<?x{0}>
  %q = qopt.requantize %a : tensor<?x{0}> to tensor<?x{1}>
  %r = quant.scast %q : tensor<?x{1}> to tensor<?xi8>)mlir",
                                          requantType(sIn, 0, "i32"),
                                          requantType(sOut, zp, "i8"))
                                .str());
  Jit jit(source, "qopt-lower-quant{requant-mode=float}");
  ASSERT_TRUE(jit.error.empty()) << jit.error;
  std::vector<int32_t> inputs = interestingInt32Inputs(200000);
  // Ties of the float rounding: x * m exactly at k + 0.5 for small k.
  std::vector<int8_t> outputs(inputs.size());
  jit.run("f", inputs, outputs);
  const float m = static_cast<float>(sIn) / static_cast<float>(sOut);
  for (size_t k = 0; k < inputs.size(); ++k) {
    float v = std::nearbyintf(static_cast<float>(inputs[k]) * m) + float(zp);
    v = std::fmin(std::fmax(v, -128.0f), 127.0f);
    ASSERT_EQ(outputs[k], static_cast<int8_t>(v)) << "input " << inputs[k];
  }
}

// quant.qcast is ONNX Runtime's QuantizeLinear (lib/Quant quantizeF32), and
// quant.dcast is (q - zp) * scale in float32.
TEST(LowerQuantExecTest, QuantizeAndDequantizeMatchReferences) {
  const double scale = 0.0235294122248888; // float32 of 6/255
  std::string type = requantType(scale, -128, "i8");
  std::string u8type =
      llvm::formatv("!quant.uniform<u8:f32, {0:e17}:3>", scale);
  std::string narrow =
      llvm::formatv("!quant.uniform<i8<-127:127>:f32, {0:e17}>", scale);
  // f32 -> quantized type -> its storage integers.
  auto quantizeTo = [](StringRef name, StringRef qtype) {
    return wrap(name, "f32", "i8",
                llvm::formatv(R"mlir(
  %q = quant.qcast %t : tensor<?xf32> to tensor<?x{0}>
  %r = quant.scast %q : tensor<?x{0}> to tensor<?xi8>)mlir",
                              qtype)
                    .str());
  };
  std::string source = quantizeTo("q", type) + quantizeTo("qu8", u8type) +
                       quantizeTo("qnarrow", narrow) +
                       wrap("d", "i8", "f32",
                            llvm::formatv(R"mlir(
  %q = quant.scast %t : tensor<?xi8> to tensor<?x{0}>
  %r = quant.dcast %q : tensor<?x{0}> to tensor<?xf32>)mlir",
                                          type)
                                .str());
  Jit jit(source, "qopt-lower-quant");
  ASSERT_TRUE(jit.error.empty()) << jit.error;

  std::vector<float> inputs = {0.0f,
                               -0.0f,
                               1.0f,
                               -1.0f,
                               6.0f,
                               100.0f,
                               -100.0f,
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN()};
  // Exact ties of x / scale: (k + 0.5) * scale, computed in float32.
  for (int k = -140; k < 140; ++k)
    inputs.push_back((float(k) + 0.5f) * float(scale));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-8.0f, 8.0f);
  for (int i = 0; i < 100000; ++i)
    inputs.push_back(dist(rng));

  struct Variant {
    const char *name;
    int64_t zp, qmin, qmax;
    bool isUnsigned;
  } variants[] = {{"q", -128, -128, 127, false},
                  {"qu8", 3, 0, 255, true},
                  {"qnarrow", 0, -127, 127, false}};
  for (const Variant &v : variants) {
    std::vector<int8_t> outputs(inputs.size());
    jit.run(v.name, inputs, outputs);
    for (size_t k = 0; k < inputs.size(); ++k) {
      int64_t expected =
          qopt::quantizeF32(inputs[k], float(scale), v.zp, v.qmin, v.qmax);
      int64_t got =
          v.isUnsigned ? int64_t(uint8_t(outputs[k])) : int64_t(outputs[k]);
      ASSERT_EQ(got, expected) << v.name << " input " << inputs[k];
    }
  }

  std::vector<int8_t> bytes;
  for (int q = -128; q <= 127; ++q)
    bytes.push_back(int8_t(q));
  std::vector<float> floats(bytes.size());
  jit.run("d", bytes, floats);
  for (size_t k = 0; k < bytes.size(); ++k)
    EXPECT_EQ(floats[k], (float(bytes[k]) - (-128.0f)) * float(scale));
}

} // namespace
