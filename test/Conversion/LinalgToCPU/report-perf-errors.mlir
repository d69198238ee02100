// qopt-report-perf's errors: bad option values, an unknown target, an
// output that cannot be written, and a module that has been through
// qopt-lower-quant (its quantize steps are no longer visible).
//
// RUN: not qopt %s --qopt-report-perf=target=sm_90 -o /dev/null 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: qopt-report-perf: unknown target 'sm_90'; expected x86_64 or aarch64 (the report predicts qopt-lower-cpu)
// RUN: not qopt %s --qopt-report-perf=target=riscv64 -o /dev/null 2>&1 | FileCheck %s --check-prefix=TARGET2
// TARGET2: error: qopt-report-perf: unknown target 'riscv64'
// RUN: not qopt %s --qopt-report-perf=format=xml -o /dev/null 2>&1 | FileCheck %s --check-prefix=FORMAT
// FORMAT: error: qopt-report-perf: unknown format 'xml'; expected text or json
// RUN: not qopt %s --qopt-report-perf=warn-threshold=0 -o /dev/null 2>&1 | FileCheck %s --check-prefix=THRESHOLD
// RUN: not qopt %s --qopt-report-perf=warn-threshold=-0.5 -o /dev/null 2>&1 | FileCheck %s --check-prefix=THRESHOLD
// RUN: not qopt %s --qopt-report-perf=warn-threshold=nan -o /dev/null 2>&1 | FileCheck %s --check-prefix=THRESHOLD
// THRESHOLD: error: qopt-report-perf: warn-threshold must be a positive number (int8 time / f32 time), got
// RUN: not qopt %s --qopt-report-perf=warn-threshold=abc -o /dev/null 2>&1 | FileCheck %s --check-prefix=PARSE
// PARSE: warn-threshold
// RUN: not qopt %s --qopt-report-perf=output=%t.missing-dir/report.txt -o /dev/null 2>&1 | FileCheck %s --check-prefix=OUTPUT
// OUTPUT: error: qopt-report-perf: cannot write the report to '{{.*}}missing-dir/report.txt': No such file or directory
// RUN: not qopt %s --qopt-legalize --qopt-quantize-kernels --qopt-fold-requant --qopt-lower-quant --qopt-report-perf -o /dev/null 2>&1 | FileCheck %s --check-prefix=LOWERED
// LOWERED: error: qopt-report-perf: the module has integer kernels but no quantized types left; it has been through qopt-lower-quant
// The same module before qopt-lower-quant is accepted.
// RUN: qopt %s --qopt-legalize --qopt-quantize-kernels --qopt-fold-requant --qopt-report-perf -o /dev/null 2>&1 | FileCheck %s --check-prefix=OK
// OK: estimate: int8/f32 =

func.func @mm(%x: tensor<4x16xf32> {qopt.name = "x"}) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %xs = qopt.stats %x min [-1.0] max [1.0] : tensor<4x16xf32>
  %w = arith.constant dense<0.5> : tensor<16x16xf32>
  %e = tensor.empty() : tensor<4x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = linalg.matmul ins(%xs, %w : tensor<4x16xf32>, tensor<16x16xf32>) outs(%z : tensor<4x16xf32>) -> tensor<4x16xf32> loc("y")
  return %y : tensor<4x16xf32>
}
