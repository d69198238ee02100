// RUN: qopt %s --split-input-file --qopt-x86-vnni | FileCheck %s

// The u8 x s8 step qopt-cpu-gemm emits becomes vpdpbusd: the four
// activation bytes broadcast as one i32, the packed weights as they are.
// CHECK-LABEL: func @step
// CHECK: %[[WORD:.*]] = vector.bitcast %arg1 : vector<4xi8> to vector<1xi32>
// CHECK: %[[S:.*]] = vector.extract %[[WORD]][0] : i32 from vector<1xi32>
// CHECK: %[[SPLAT:.*]] = vector.broadcast %[[S]] : i32 to vector<16xi32>
// CHECK: %[[A:.*]] = vector.bitcast %[[SPLAT]] : vector<16xi32> to vector<64xi8>
// CHECK: %[[R:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%arg0, %[[A]], %arg2) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-NOT: vector.contract
// CHECK: return %[[R]]
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @step(%acc: vector<16xi32>, %x: vector<4xi8>, %w64: vector<64xi8>) -> vector<16xi32> attributes {target_cpu = "znver4"} {
  %w = vector.shape_cast %w64 : vector<64xi8> to vector<16x4xi8>
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extui %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
}

// -----

// The lane-wise step of the int8-block weight-only path (both operands per
// lane: unsigned weight nibbles, signed activation codes) becomes vpdpbusd
// with both byte vectors as they are, the unsigned one first.
// CHECK-LABEL: func @lane_step
// CHECK: %[[R:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%arg0, %arg1, %arg2) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// CHECK-NOT: vector.contract
// CHECK: return %[[R]]
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @lane_step(%acc: vector<16xi32>, %u64: vector<64xi8>, %s64: vector<64xi8>) -> vector<16xi32> attributes {target_cpu = "znver4"} {
  %u = vector.shape_cast %u64 : vector<64xi8> to vector<16x4xi8>
  %s = vector.shape_cast %s64 : vector<64xi8> to vector<16x4xi8>
  %ue = arith.extui %u : vector<16x4xi8> to vector<16x4xi32>
  %se = arith.extsi %s : vector<16x4xi8> to vector<16x4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %ue, %se, %acc : vector<16x4xi32>, vector<16x4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
}

// -----

// The lane-wise form with the signed operand first is not vpdpbusd's: left
// alone.
// CHECK-LABEL: func @lane_step_swapped
// CHECK-NOT: llvm.call_intrinsic
// CHECK: vector.contract
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @lane_step_swapped(%acc: vector<16xi32>, %u: vector<16x4xi8>, %s: vector<16x4xi8>) -> vector<16xi32> attributes {target_cpu = "znver4"} {
  %se = arith.extsi %s : vector<16x4xi8> to vector<16x4xi32>
  %ue = arith.extui %u : vector<16x4xi8> to vector<16x4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %se, %ue, %acc : vector<16x4xi32>, vector<16x4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
}

// -----

// A feature string can enable it on a CPU without VNNI.
// CHECK-LABEL: func @by_feature
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @by_feature(%acc: vector<16xi32>, %x: vector<4xi8>, %w: vector<16x4xi8>) -> vector<16xi32> attributes {target_cpu = "skylake-avx512", target_features = #llvm.target_features<["+avx512vnni"]>} {
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extui %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
}

// -----

// Left alone: a target without VNNI (llc cannot select vpdpbusd there), no
// target at all, and a signed x signed contraction.
// CHECK-LABEL: func @skylake
// CHECK-NOT: llvm.call_intrinsic
// CHECK: vector.contract
// CHECK-LABEL: func @no_target
// CHECK: vector.contract
// CHECK-LABEL: func @signed
// CHECK-NOT: llvm.call_intrinsic
// CHECK: vector.contract
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @skylake(%acc: vector<16xi32>, %x: vector<4xi8>, %w: vector<16x4xi8>) -> vector<16xi32> attributes {target_cpu = "skylake-avx512"} {
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extui %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
func.func @no_target(%acc: vector<16xi32>, %x: vector<4xi8>, %w: vector<16x4xi8>) -> vector<16xi32> {
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extui %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
func.func @signed(%acc: vector<16xi32>, %x: vector<4xi8>, %w: vector<16x4xi8>) -> vector<16xi32> attributes {target_cpu = "znver4"} {
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extsi %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
}
