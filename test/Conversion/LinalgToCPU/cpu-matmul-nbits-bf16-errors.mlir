// qopt-cpu-matmul-nbits refuses `compute bf16` where the function's target
// has no AVX512-BF16, and where the function has no target at all (the pass
// run without qopt-cpu-set-target), instead of silently computing in f32.
// RUN: qopt %s -split-input-file -verify-diagnostics --qopt-cpu-matmul-nbits -o /dev/null

module attributes {llvm.target_triple = "x86_64-unknown-linux-gnu"} {
func.func @skylake(%a: tensor<1x64xf32>) -> tensor<1x32xf32> attributes {target_cpu = "skylake-avx512"} {
  %w = arith.constant dense<17> : tensor<32x2x16xi8>
  %s = arith.constant dense<0.5> : tensor<32x2xf32>
  // expected-error @+1 {{qopt-cpu-matmul-nbits: 'compute bf16' needs AVX512-BF16 (vdpbf16ps), and the target CPU 'skylake-avx512' with its features lacks avx512bf16; lower for a CPU that has it (cpu=znver4, sapphirerapids, or features=+avx512bf16) or quantize with compute-type=f32}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 compute bf16 : tensor<1x64xf32>, tensor<32x2x16xi8>, tensor<32x2xf32> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}
}

// -----

func.func @no_target(%a: tensor<1x64xf32>) -> tensor<1x32xf32> {
  %w = arith.constant dense<17> : tensor<32x2x16xi8>
  %s = arith.constant dense<0.5> : tensor<32x2xf32>
  // expected-error @+1 {{qopt-cpu-matmul-nbits: 'compute bf16' needs AVX512-BF16 (vdpbf16ps), and the function has no target CPU (run qopt-cpu-set-target, as qopt-lower-cpu does); lower for a CPU that has it}}
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 compute bf16 : tensor<1x64xf32>, tensor<32x2x16xi8>, tensor<32x2xf32> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}

// -----

// `compute f32` (as no compute attribute) needs no target: no error
// (-verify-diagnostics fails on any unexpected one).
func.func @f32_no_target(%a: tensor<1x64xf32>) -> tensor<1x32xf32> {
  %w = arith.constant dense<17> : tensor<32x2x16xi8>
  %s = arith.constant dense<0.5> : tensor<32x2xf32>
  %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 compute f32 : tensor<1x64xf32>, tensor<32x2x16xi8>, tensor<32x2xf32> -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}
