//===- QdqVsIntegerTest.cpp - the deployed program vs its simulation ------===//
//
// QDQ form is a float simulation; the integer program that
// qopt-quantize-kernels, qopt-fold-requant and qopt-lower-quant produce is
// what is deployed. The numerics contract (ARCHITECTURE.md section 3) allows
// them to differ by at most 1 LSB. This test compiles one quantized layer
// (matmul + bias + ReLU, i8 output) both ways, runs both on many random
// inputs, checks the bound, and prints how often and by how much they differ
// for each requantization mode.
//
//===----------------------------------------------------------------------===//

#include "Jit.h"

#include <cstdlib>
#include <random>

using namespace mlir;
using qopt_test::Jit;

namespace {

const char *kLayer = R"mlir(
#id = affine_map<(d0, d1) -> (d0, d1)>
#ch = affine_map<(d0, d1) -> (d1)>
func.func @layer(%in: memref<?xf32>, %out: memref<?xi8>) attributes {llvm.emit_c_interface} {
  %t = bufferization.to_tensor %in restrict : memref<?xf32> to tensor<?xf32>
  %tc = tensor.cast %t : tensor<?xf32> to tensor<64xf32>
  %x = tensor.expand_shape %tc [[0, 1]] output_shape [4, 16] : tensor<64xf32> into tensor<4x16xf32>
  %xs = qopt.stats %x min [-1.0] max [1.0] : tensor<4x16xf32>
  %w = arith.constant dense<[[-0.3537, -0.3444, 0.2008, -0.6882, -0.0430, -0.6768, 0.3303, 0.0609], [0.4069, -0.1513, 0.1195, -0.0858, -0.2215, 0.0436, -0.3772, -0.1064], [0.2090, 0.0173, -0.1231, 0.6568, 0.0175, -0.1761, 0.0479, -0.1568], [-0.1155, -0.1051, 0.6076, 0.0068, 0.0527, 0.2023, 0.6051, -0.0671], [-0.1872, 0.7424, -0.4379, -0.1102, 0.2001, 0.6851, -0.2850, -0.7283], [0.1985, -0.1565, -0.1162, 0.1384, 0.0671, 0.0873, -0.1293, 0.3868], [0.4515, 0.0096, -0.1356, 0.2200, 0.1433, -0.3121, -0.1381, 0.3147], [-0.0289, -0.0986, 0.0637, -0.0101, -0.0007, -0.5792, 0.5248, 0.0598], [-0.2630, 0.2939, 0.0927, 0.0053, 0.3144, 0.6783, 0.1661, 0.4755], [0.6472, -0.3063, -0.1570, 0.2329, -0.5124, -0.0802, 0.3879, 0.3130], [0.1738, -0.5686, 0.7053, 0.1653, 0.2301, 0.1484, -0.5149, -0.4305], [-0.3650, 0.5754, -0.2493, -0.0727, -0.0764, 0.1713, 0.1502, 0.0804], [-0.3785, -0.9417, 0.0499, 0.0804, 0.3692, -0.0309, -0.1833, 0.1231], [-0.4663, -0.3125, -0.3019, 0.0863, 0.6273, 0.2290, 0.3426, 0.0714], [0.0837, -0.1348, -0.0844, -0.7290, -0.3608, -0.3861, 0.2511, 0.1989], [0.3426, 0.4668, -0.0916, 0.3166, 0.5867, -0.0026, 0.3261, -0.0495]]> : tensor<16x8xf32>
  %b = arith.constant dense<[-0.1613, 0.0120, -0.0822, 0.0109, -0.0463, 0.0320, -0.2137, 0.2084]> : tensor<8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %mm = linalg.matmul ins(%xs, %w : tensor<4x16xf32>, tensor<16x8xf32>) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x8xf32>
  %q = quant.qcast %r : tensor<4x8xf32> to tensor<4x8x!quant.uniform<i8:f32, 0.011764706112444401:-128>>
  %i = quant.scast %q : tensor<4x8x!quant.uniform<i8:f32, 0.011764706112444401:-128>> to tensor<4x8xi8>
  %f = tensor.collapse_shape %i [[0, 1]] : tensor<4x8xi8> into tensor<32xi8>
  %fc = tensor.cast %f : tensor<32xi8> to tensor<?xi8>
  bufferization.materialize_in_destination %fc in restrict writable %out : (tensor<?xi8>, memref<?xi8>) -> ()
  return
}
)mlir";

struct Comparison {
  int64_t outputs = 0, differ = 0, maxDiff = 0;
};

Comparison compare(StringRef requantMode) {
  std::string source = std::string(kLayer);
  Jit qdq(source, "qopt-legalize,qopt-lower-quant");
  Jit integer(source, ("qopt-legalize,qopt-quantize-kernels,qopt-fold-requant,"
                       "qopt-lower-quant{requant-mode=" +
                       requantMode + "}")
                          .str());
  Comparison c;
  EXPECT_TRUE(qdq.error.empty()) << qdq.error;
  EXPECT_TRUE(integer.error.empty()) << integer.error;
  if (!qdq.error.empty() || !integer.error.empty())
    return c;
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> dist(-1.2f, 1.2f);
  for (int trial = 0; trial < 5000; ++trial) {
    std::vector<float> in(64);
    for (float &v : in)
      v = dist(rng);
    std::vector<int8_t> a(32), b(32);
    qdq.run("layer", in, a);
    integer.run("layer", in, b);
    for (size_t k = 0; k < a.size(); ++k) {
      int64_t d = std::abs(int64_t(a[k]) - int64_t(b[k]));
      c.differ += d != 0;
      c.maxDiff = std::max(c.maxDiff, d);
      ++c.outputs;
    }
  }
  return c;
}

TEST(QdqVsIntegerTest, FixedPointWithinOneLSB) {
  Comparison c = compare("fixed-point");
  ASSERT_GT(c.outputs, 0);
  EXPECT_LE(c.maxDiff, 1);
  std::printf("QDQ vs integer (fixed-point): %lld of %lld outputs differ, by "
              "at most %lld LSB\n",
              (long long)c.differ, (long long)c.outputs, (long long)c.maxDiff);
}

TEST(QdqVsIntegerTest, FloatWithinOneLSB) {
  Comparison c = compare("float");
  ASSERT_GT(c.outputs, 0);
  EXPECT_LE(c.maxDiff, 1);
  std::printf("QDQ vs integer (float): %lld of %lld outputs differ, by at "
              "most %lld LSB\n",
              (long long)c.differ, (long long)c.outputs, (long long)c.maxDiff);
}

} // namespace
