// Template for a qopt pass's error tests (docs/writing-lit-tests.md): copy
// it to test/<dir>/<pass>-errors.mlir. Errors live in their own file because
// a module that fails makes qopt exit non-zero, which would fail the
// FileCheck RUN lines of the positive file. This copy is run by lit.
//
// Option errors are reported before the pass runs, on stderr: `not` expects
// the failure and FileCheck the message.
// RUN: not qopt %s --qopt-legalize="calibrator=kl" 2>&1 | FileCheck %s --check-prefix=CALIB
// CALIB: qopt-legalize: unknown calibrator 'kl'; expected minmax, percentile, entropy or mse
//
// Errors at ops: -verify-diagnostics checks that every diagnostic is
// expected (the `expected-error` comments, @+1 meaning the next line) and
// every expected one is emitted; it exits 0 when they all match.
// RUN: qopt %s -split-input-file --qopt-legalize -verify-diagnostics

func.func @missing_stats(%x: tensor<1x4xf32> {qopt.name = "input"}) -> tensor<1x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2xf32>
  // expected-error @+1 {{cannot quantize 'linalg.matmul': input 'input' has no calibration statistics}}
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
