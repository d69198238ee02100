// RUN: qopt %s --split-input-file --qopt-arm-neon | FileCheck %s

// The sdot step qopt-cpu-gemm emits for aarch64 +dotprod: four sdot, one
// per quarter of the 16 lanes, the four activation bytes broadcast as one
// i32, the packed weights as they are.
// CHECK-LABEL: func @sdot_step
// CHECK: %[[WORD:.*]] = vector.bitcast %arg1 : vector<4xi8> to vector<1xi32>
// CHECK: %[[S:.*]] = vector.extract %[[WORD]][0] : i32 from vector<1xi32>
// CHECK: %[[SPLAT:.*]] = vector.broadcast %[[S]] : i32 to vector<4xi32>
// CHECK: %[[A:.*]] = vector.bitcast %[[SPLAT]] : vector<4xi32> to vector<16xi8>
// CHECK: %[[C0:.*]] = vector.extract_strided_slice %arg0 {offsets = [0], sizes = [4], strides = [1]} : vector<16xi32> to vector<4xi32>
// CHECK: %[[W0:.*]] = vector.extract_strided_slice %arg2 {offsets = [0], sizes = [16], strides = [1]} : vector<64xi8> to vector<16xi8>
// CHECK: %[[D0:.*]] = arm_neon.intr.sdot %[[C0]], %[[W0]], %[[A]] : vector<16xi8>, vector<16xi8> to vector<4xi32>
// CHECK: %[[R0:.*]] = vector.insert_strided_slice %[[D0]], %arg0 {offsets = [0], strides = [1]} : vector<4xi32> into vector<16xi32>
// CHECK: vector.extract_strided_slice %arg2 {offsets = [16], sizes = [16], strides = [1]}
// CHECK: arm_neon.intr.sdot
// CHECK: vector.extract_strided_slice %arg2 {offsets = [32], sizes = [16], strides = [1]}
// CHECK: arm_neon.intr.sdot
// CHECK: %[[W3:.*]] = vector.extract_strided_slice %arg2 {offsets = [48], sizes = [16], strides = [1]}
// CHECK: %[[D3:.*]] = arm_neon.intr.sdot %{{.*}}, %[[W3]], %[[A]]
// CHECK: %[[R:.*]] = vector.insert_strided_slice %[[D3]], %{{.*}} {offsets = [12], strides = [1]} : vector<4xi32> into vector<16xi32>
// CHECK-NOT: vector.contract
// CHECK: return %[[R]]
module attributes {llvm.target_triple = "aarch64-unknown-linux-gnu"} {
func.func @sdot_step(%acc: vector<16xi32>, %x: vector<4xi8>, %w64: vector<64xi8>) -> vector<16xi32> attributes {target_cpu = "generic", target_features = #llvm.target_features<["+dotprod"]>} {
  %w = vector.shape_cast %w64 : vector<64xi8> to vector<16x4xi8>
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extsi %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
}

// -----

// The smmla step for aarch64 +i8mm: a 2x8 by (2x8)^T block into 2x2 becomes
// one smmla through upstream's i8mm patterns (the shape casts fold away
// under canonicalization).
// CHECK-LABEL: func @smmla_step
// CHECK: %[[R:.*]] = arm_neon.intr.smmla %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8> to vector<4xi32>
// CHECK-NOT: vector.contract
module attributes {llvm.target_triple = "aarch64-unknown-linux-gnu"} {
func.func @smmla_step(%acc: vector<4xi32>, %a: vector<16xi8>, %w: vector<16xi8>) -> vector<4xi32> attributes {target_cpu = "neoverse-v1"} {
  %a2 = vector.shape_cast %a : vector<16xi8> to vector<2x8xi8>
  %w2 = vector.shape_cast %w : vector<16xi8> to vector<2x8xi8>
  %ae = arith.extsi %a2 : vector<2x8xi8> to vector<2x8xi32>
  %we = arith.extsi %w2 : vector<2x8xi8> to vector<2x8xi32>
  %c = vector.shape_cast %acc : vector<4xi32> to vector<2x2xi32>
  %r = vector.contract {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %ae, %we, %c : vector<2x8xi32>, vector<2x8xi32> into vector<2x2xi32>
  %r1 = vector.shape_cast %r : vector<2x2xi32> to vector<4xi32>
  return %r1 : vector<4xi32>
}
}

// -----

// Left alone: aarch64 without dotprod (sdot step) or without i8mm (smmla
// step), an x86 module with the features' names, a u8 activation.
// CHECK-LABEL: func @no_dotprod
// CHECK-NOT: arm_neon
// CHECK: vector.contract
// CHECK-LABEL: func @no_i8mm
// CHECK-NOT: arm_neon
// CHECK: vector.contract
// CHECK-LABEL: func @unsigned_act
// CHECK-NOT: arm_neon
// CHECK: vector.contract
module attributes {llvm.target_triple = "aarch64-unknown-linux-gnu"} {
func.func @no_dotprod(%acc: vector<16xi32>, %x: vector<4xi8>, %w: vector<16x4xi8>) -> vector<16xi32> attributes {target_cpu = "generic"} {
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extsi %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
func.func @no_i8mm(%acc: vector<2x2xi32>, %a: vector<2x8xi8>, %w: vector<2x8xi8>) -> vector<2x2xi32> attributes {target_cpu = "neoverse-n1"} {
  %ae = arith.extsi %a : vector<2x8xi8> to vector<2x8xi32>
  %we = arith.extsi %w : vector<2x8xi8> to vector<2x8xi32>
  %r = vector.contract {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %ae, %we, %acc : vector<2x8xi32>, vector<2x8xi32> into vector<2x2xi32>
  return %r : vector<2x2xi32>
}
func.func @unsigned_act(%acc: vector<16xi32>, %x: vector<4xi8>, %w: vector<16x4xi8>) -> vector<16xi32> attributes {target_cpu = "neoverse-n1"} {
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extui %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
}

// -----

// CHECK-LABEL: func @x86_module
// CHECK-NOT: arm_neon
// CHECK: vector.contract
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @x86_module(%acc: vector<16xi32>, %x: vector<4xi8>, %w: vector<16x4xi8>) -> vector<16xi32> attributes {target_cpu = "znver4"} {
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extsi %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
}
