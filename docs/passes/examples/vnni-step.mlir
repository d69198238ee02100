// Input of docs/passes/x86-vnni.md: the u8 x s8 step that qopt-cpu-gemm
// emits (16 columns x 4 bytes of K), in a module for an AVX-512 VNNI CPU.
module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @step(%acc: vector<16xi32>, %x: vector<4xi8>, %w64: vector<64xi8>) -> vector<16xi32> attributes {target_cpu = "znver4"} {
  %w = vector.shape_cast %w64 : vector<64xi8> to vector<16x4xi8>
  %we = arith.extsi %w : vector<16x4xi8> to vector<16x4xi32>
  %xe = arith.extui %x : vector<4xi8> to vector<4xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (n)>], iterator_types = ["parallel", "reduction"], kind = #vector.kind<add>} %we, %xe, %acc : vector<16x4xi32>, vector<4xi32> into vector<16xi32>
  return %r : vector<16xi32>
}
}
