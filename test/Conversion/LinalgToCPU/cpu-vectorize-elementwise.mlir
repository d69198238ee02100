// RUN: qopt %s --qopt-cpu-vectorize-elementwise | FileCheck %s
// RUN: qopt %s --qopt-cpu-vectorize-elementwise="vector-width=8" | FileCheck %s --check-prefix=W8
// RUN: not qopt %s --qopt-cpu-vectorize-elementwise="vector-width=0" 2>&1 | FileCheck %s --check-prefix=ERR

// A per-channel bias add and ReLU on i32 (innermost 32): tiles of 1 x 16,
// each read, computed and written as vector<16xi32>; the per-channel
// constant is read along the tile.
// CHECK-LABEL: func @bias_relu
// CHECK-NOT: linalg.generic
// CHECK: scf.for
// CHECK: scf.for {{.*}} step %c16
// CHECK: vector.transfer_read {{.*}} vector<16xi32>
// CHECK: vector.transfer_read {{.*}} vector<16xi32>
// CHECK: arith.addi {{.*}} : vector<16xi32>
// CHECK: arith.maxsi {{.*}} : vector<16xi32>
// CHECK: vector.transfer_write {{.*}} : vector<16xi32>, tensor<1x16xi32>
// W8-LABEL: func @bias_relu
// W8: arith.maxsi {{.*}} : vector<8xi32>
func.func @bias_relu(%x: tensor<4x32xi32>, %b: tensor<32xi32>) -> tensor<4x32xi32> {
  %e = tensor.empty() : tensor<4x32xi32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<4x32xi32>, tensor<32xi32>) outs(%e : tensor<4x32xi32>) {
  ^bb0(%in: i32, %bias: i32, %o: i32):
    %c0 = arith.constant 0 : i32
    %s = arith.addi %in, %bias : i32
    %m = arith.maxsi %s, %c0 : i32
    linalg.yield %m : i32
  } -> tensor<4x32xi32>
  return %r : tensor<4x32xi32>
}

// Innermost 24: the widest of 16, 8, 4 that divides it is 8.
// CHECK-LABEL: func @width_divides
// CHECK: arith.sitofp {{.*}} : vector<8xi32> to vector<8xf32>
func.func @width_divides(%x: tensor<3x24xi32>) -> tensor<3x24xf32> {
  %e = tensor.empty() : tensor<3x24xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<3x24xi32>) outs(%e : tensor<3x24xf32>) {
  ^bb0(%in: i32, %o: f32):
    %f = arith.sitofp %in : i32 to f32
    linalg.yield %f : f32
  } -> tensor<3x24xf32>
  return %r : tensor<3x24xf32>
}

// Innermost 6 (4 does not divide it) and a reduction: left for the loops.
// CHECK-LABEL: func @left_alone
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: vector.
// CHECK: return
func.func @left_alone(%x: tensor<5x6xi32>, %y: tensor<8x16xi32>) -> (tensor<5x6xi32>, tensor<8xi32>) {
  %e = tensor.empty() : tensor<5x6xi32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<5x6xi32>) outs(%e : tensor<5x6xi32>) {
  ^bb0(%in: i32, %o: i32):
    %s = arith.addi %in, %in : i32
    linalg.yield %s : i32
  } -> tensor<5x6xi32>
  %z = arith.constant dense<0> : tensor<8xi32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%y : tensor<8x16xi32>) outs(%z : tensor<8xi32>) {
  ^bb0(%in: i32, %o: i32):
    %a = arith.addi %in, %o : i32
    linalg.yield %a : i32
  } -> tensor<8xi32>
  return %r, %s : tensor<5x6xi32>, tensor<8xi32>
}

// A reduction over the outer loop that keeps the innermost one (the lane-wise
// min/max of qopt.dynamic_quantize's lowering): rows one step at a time,
// 16 lanes per vector, both results carried through the loops.
// CHECK-LABEL: func @lanes_min_max
// CHECK-NOT: linalg.generic
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<16xf32>, tensor<16xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %c16 step %c16
// CHECK: arith.minimumf {{.*}} : vector<16xf32>
// CHECK: arith.maximumf {{.*}} : vector<16xf32>
func.func @lanes_min_max(%x: tensor<8x16xf32>, %init: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<8x16xf32>) outs(%init, %init : tensor<16xf32>, tensor<16xf32>) {
  ^bb0(%in: f32, %lo: f32, %hi: f32):
    %a = arith.minimumf %lo, %in : f32
    %b = arith.maximumf %hi, %in : f32
    linalg.yield %a, %b : f32, f32
  } -> (tensor<16xf32>, tensor<16xf32>)
  return %r#0, %r#1 : tensor<16xf32>, tensor<16xf32>
}

// ERR: qopt-cpu-vectorize-elementwise: vector-width must be positive
