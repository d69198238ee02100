// Input of docs/passes/arm-neon.md: the 2x2-block step that qopt-cpu-gemm
// emits for an aarch64 CPU with i8mm (neoverse-v1).
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
