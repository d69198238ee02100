// qopt-run's lowered-module mode with f16: f16 .npy in, f16 and f32 .npy
// out (two results), compared with numpy's float16 arithmetic. A qopt.name
// argument attribute makes no warning (nothing is printed at all).
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: qopt %s --qopt-lower-cpu -o %t/f16.ll.mlir
// RUN: /usr/bin/python3 %S/Inputs/reference.py gen-f16 %t
// RUN: qopt-run %t/f16.ll.mlir --entry product --input %t/x.npy --input %t/y.npy --output %t/p.npy --output %t/s.npy 2>&1 | count 0
// RUN: /usr/bin/python3 %S/Inputs/reference.py check-f16 %t | FileCheck %s
// CHECK: f16 product: float16 (3, 5) OK
// CHECK: f32 row sums: float32 (3,) OK

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @product(%x: tensor<3x5xf16> {qopt.name = "x"}, %y: tensor<3x5xf16>) -> (tensor<3x5xf16>, tensor<3xf32>) {
  %e = tensor.empty() : tensor<3x5xf16>
  %p = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<3x5xf16>, tensor<3x5xf16>) outs(%e : tensor<3x5xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %m = arith.mulf %a, %b : f16
    %c = arith.constant 0.25 : f16
    %s = arith.addf %m, %c : f16
    linalg.yield %s : f16
  } -> tensor<3x5xf16>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e2 : tensor<3xf32>) -> tensor<3xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%p : tensor<3x5xf16>) outs(%init : tensor<3xf32>) {
  ^bb0(%a: f16, %acc: f32):
    %f = arith.extf %a : f16 to f32
    %s = arith.addf %acc, %f : f32
    linalg.yield %s : f32
  } -> tensor<3xf32>
  return %p, %sum : tensor<3x5xf16>, tensor<3xf32>
}
