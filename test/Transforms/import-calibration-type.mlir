// A file entry that names a non-float tensor is an error at that tensor.
// RUN: not qopt %s --qopt-import-calibration="file=%S/Inputs/calib-merge.json" 2>&1 | FileCheck %s
// CHECK: error: loc("a"): calibration entry 'a' in '{{.*}}calib-merge.json' names a value of type 'tensor<4xi32>'; statistics apply to float tensors only
// CHECK-NOT: qopt.stats

func.func @not_float(%x: tensor<4xi32>) -> tensor<4xi32> {
  %a = arith.addi %x, %x : tensor<4xi32> loc("a")
  return %a : tensor<4xi32>
}
