// Each category of qopt-report-perf on a model that exhibits it, after
// qopt-legalize, qopt-quantize-kernels and qopt-fold-requant. Expected
// costs are computed by hand from qopt-assign-precision's x86_64 table
// (i8 throughput 1, f32 0.25, 2 int8-MACs per byte; docs/perf-report.md).
//
// RUN: qopt %s -split-input-file --qopt-legalize --qopt-quantize-kernels --qopt-fold-requant --qopt-report-perf -o /dev/null 2>&1 | FileCheck %s

// Q x K^T of two activations: the transpose is in the model, both zero
// points stay in the kernel (no constant weight, so sum(w) is unknown at
// compile time), and qopt-cpu-gemm leaves the kernel to loops. The add
// has no statistics for its result and stays float. By hand:
//   qcast x, qcast y   128 el each: 512 + 2*(512 + 128)            = 1792 each
//   transpose y        i8 128 -> 128: 2*256 (f32: 2*1024)          =  512
//   xy (loops)         8*8*16 = 1024 MACs at the f32 throughput,
//                      act 128 + 128 + 64 at 1 byte: 4096 + 640    = 4736
//                      f32: 4096 + 2*(4*320)                       = 6656
//   requantize xy      64 el i32 -> i8: 64 + 2*(256 + 64)          =  704
//   dcast xy           64 el i8 -> f32: 256 + 2*(64 + 256)         =  896
//   sum (float add)    64, act 64+64+64: 256 + 2*(4*192)           = 1792
// int8 = 12224, f32 = 2048 + 6656 + 1792 = 10496: int8 slower (1.165).

// CHECK-LABEL: qopt-report-perf: target x86_64
// CHECK-NEXT: estimate: int8/f32 = 1.165 (int8 12224, f32 10496); threshold 0.7: WARNING
// CHECK-NEXT: MACs: 1088 total, 64 in float ops (5.9%)
// CHECK-NEXT: float ops (fallbacks): 1
// CHECK-NEXT: sum {{ *}}linalg.add x1  macs 64 (5.9%), cost 1792 (14.7% of int8): no integer kernel for this op
// CHECK-NEXT: quantize/dequantize steps: 3
// CHECK-NEXT: x {{ *}}quant.qcast {{ *}}float -> i8; 128 elements, cost 1792
// CHECK-NEXT: y {{ *}}quant.qcast {{ *}}float -> i8; 128 elements, cost 1792
// CHECK-NEXT: xy {{ *}}quant.dcast {{ *}}i8 -> float; 64 elements, cost 896
// CHECK-NEXT: requantize steps that did not fold: 0
// CHECK-NEXT: zero-point corrections not folded: 2
// CHECK-NEXT: xy {{ *}}linalg.generic {{ *}}activation zero point -1 subtracted in the inner loop; no constant weight: both operands are activations
// CHECK-NEXT: xy {{ *}}linalg.generic {{ *}}weight zero point -64 subtracted in the inner loop; no constant weight
// CHECK-NEXT: activations not fused: 0
// CHECK-NEXT: layout
// CHECK-NEXT: y.T {{ *}}linalg.transpose copy/transpose in the model; 256 elements, cost 512
// CHECK-NEXT: xy {{ *}}loops {{ *}}int8 contraction left to scalar loops by qopt-cpu-gemm (zero-point correction in the body): costed at the f32 throughput; 64 elements, cost 4736
// CHECK-NEXT: costliest in int8:
// CHECK-NEXT: 1. xy {{ *}}cost 6336 (51.8% of int8)
// CHECK: warning: qopt-report-perf: int8 is estimated at 1.16 of f32 time {{.*}} costliest: 'xy' (int8 kernel, 52% of int8 time)

func.func @qk(%x: tensor<8x16xf32> {qopt.name = "x"}, %y: tensor<8x16xf32> {qopt.name = "y"}) -> tensor<8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %xs = qopt.stats %x min [-1.0] max [1.0] : tensor<8x16xf32>
  %ys = qopt.stats %y min [-1.0] max [3.0] : tensor<8x16xf32>
  %e = tensor.empty() : tensor<16x8xf32>
  %yt = linalg.transpose ins(%ys : tensor<8x16xf32>) outs(%e : tensor<16x8xf32>) permutation = [1, 0] loc("y.T")
  %e2 = tensor.empty() : tensor<8x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e2 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%xs, %yt : tensor<8x16xf32>, tensor<16x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32> loc("xy")
  %ss = qopt.stats %s min [-4.0] max [4.0] : tensor<8x8xf32>
  %a = linalg.add ins(%ss, %ss : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e2 : tensor<8x8xf32>) -> tensor<8x8xf32> loc("sum")
  return %a : tensor<8x8xf32>
}

// -----

// An MLP whose last ReLU returns float: fc1's ReLU becomes the requantize's
// range, but relu2 has no quantize after it to fuse into and stays a float
// pass over the tensor. By hand:
//   qcast x     1024 el: 4096 + 2*(4096 + 1024)                    = 14336
//   fc1, fc2    65536 MACs, weight 4096 + 64 scales, act 1024+1024:
//               65536 + 2*(4096 + 256 + 2048)                      = 78336 each
//               f32: 262144 + 2*(16384 + 8192)                     = 311296 each
//   requantize  1024 el: 1024 + 2*(4096 + 1024)                    = 11264
//   dcast fc2   1024 el i32: 4096 + 2*8192                         = 20480
//   relu2       1024 el float, act 2048: 4096 + 2*8192             = 20480
// int8 = 223232, f32 = 643072, ratio 0.347.

// CHECK-LABEL: qopt-report-perf: target x86_64
// CHECK-NEXT: estimate: int8/f32 = 0.347 (int8 223232, f32 643072); threshold 0.7: ok
// CHECK: activations not fused: 1
// CHECK-NEXT: relu2 {{ *}}relu {{ *}}float relu not fused: its result stays float (a function result or a float consumer), so there is no requantize to fuse into; 1024 elements, cost 20480
// CHECK-NOT: warning

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @mlp(%x: tensor<16x64xf32> {qopt.name = "x"}) -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %xs = qopt.stats %x min [-1.0] max [1.0] : tensor<16x64xf32>
  %w1 = arith.constant dense<0.125> : tensor<64x64xf32>
  %b1 = arith.constant dense<0.5> : tensor<64xf32>
  %e = tensor.empty() : tensor<16x64xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %m1 = linalg.matmul ins(%xs, %w1 : tensor<16x64xf32>, tensor<64x64xf32>) outs(%z : tensor<16x64xf32>) -> tensor<16x64xf32> loc("fc1.matmul")
  %a1 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%m1, %b1 : tensor<16x64xf32>, tensor<64xf32>) outs(%e : tensor<16x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<16x64xf32> loc("fc1")
  %a1s = qopt.stats %a1 min [-4.0] max [4.0] : tensor<16x64xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%a1s : tensor<16x64xf32>) outs(%e : tensor<16x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<16x64xf32> loc("relu1")
  %r1s = qopt.stats %r1 min [0.0] max [4.0] : tensor<16x64xf32>
  %w2 = arith.constant dense<0.0625> : tensor<64x64xf32>
  %m2 = linalg.matmul ins(%r1s, %w2 : tensor<16x64xf32>, tensor<64x64xf32>) outs(%z : tensor<16x64xf32>) -> tensor<16x64xf32> loc("fc2.matmul")
  %m2s = qopt.stats %m2 min [-8.0] max [8.0] : tensor<16x64xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%m2s : tensor<16x64xf32>) outs(%e : tensor<16x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<16x64xf32> loc("relu2")
  %r2s = qopt.stats %r2 min [0.0] max [8.0] : tensor<16x64xf32>
  return %r2s : tensor<16x64xf32>
}

// -----

// Two requantizes that qopt-fold-requant keeps (the middle step rounds:
// scale 0.1 -> 0.3 -> 0.05): the first rescales i8 to i8, the second is
// chained to it. Each costs 4 el: 4 + 2*(4 + 4) = 20. There is no compute
// op, so there is no ratio and no warning.

// CHECK-LABEL: qopt-report-perf: target x86_64
// CHECK-NEXT: estimate: none, the module has no compute op (int8 40, f32 0)
// CHECK: requantize steps that did not fold: 2
// CHECK-NEXT: x.rescale {{ *}}qopt.requantize {{ *}}i8 -> i8: rescales an integer tensor to another scale {{.*}}; 4 elements, cost 20
// CHECK-NEXT: x.rescale2 {{ *}}qopt.requantize {{ *}}i8 -> i8: chained with the requantize before it (the middle step rounds; qopt-fold-requant{fold-inexact-chains=true} merges them); 4 elements, cost 20
// CHECK-NOT: warning

func.func @chain(%x: tensor<4x!quant.uniform<i8:f32, 0.1>>) -> tensor<4x!quant.uniform<i8:f32, 0.05>> {
  %a = qopt.requantize %x : tensor<4x!quant.uniform<i8:f32, 0.1>> to tensor<4x!quant.uniform<i8:f32, 0.3>> loc("x.rescale")
  %b = qopt.requantize %a : tensor<4x!quant.uniform<i8:f32, 0.3>> to tensor<4x!quant.uniform<i8:f32, 0.05>> loc("x.rescale2")
  return %b : tensor<4x!quant.uniform<i8:f32, 0.05>>
}
