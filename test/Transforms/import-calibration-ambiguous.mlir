// With match=suffix, a file entry that matches two names is an error that
// names both; nothing is annotated.
// RUN: not qopt %s --qopt-import-calibration="file=%S/Inputs/calib-conv1.json format=qopt match=suffix" 2>&1 | FileCheck %s
// CHECK: error: calibration entry 'conv1' in '{{.*}}calib-conv1.json' matches both 'block1/conv1' and 'block2/conv1' by suffix; use a longer name or match=exact
// CHECK-NOT: qopt.stats

func.func @ambiguous(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = math.exp %x : tensor<4xf32> loc("block1/conv1")
  %b = math.exp %a : tensor<4xf32> loc("block2/conv1")
  return %b : tensor<4xf32>
}
