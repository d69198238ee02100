// Option errors: rejected before the pass runs, with the accepted values.
// RUN: not qopt %s --qopt-assign-precision 2>&1 | FileCheck %s --check-prefix=NOBUDGET
// NOBUDGET: qopt-assign-precision: no budget; pass budget=size:BYTES, avg-bits:B, cost:X or sqnr:DB
// RUN: not qopt %s --qopt-assign-precision="budget=speed:2" 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: qopt-assign-precision: unknown budget 'speed:2'; expected size:BYTES, avg-bits:B, cost:X or sqnr:DB
// RUN: not qopt %s --qopt-assign-precision="budget=size:lots" 2>&1 | FileCheck %s --check-prefix=NUMBER
// NUMBER: qopt-assign-precision: budget 'size:lots' needs a non-negative number after 'size:'
// RUN: not qopt %s --qopt-assign-precision="budget=cost:-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: qopt-assign-precision: budget 'cost:-1' needs a non-negative number after 'cost:'
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 target=riscv" 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: qopt-assign-precision: unknown target 'riscv'; expected one of x86_64 aarch64 sm_90
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 sensitivity=guess" 2>&1 | FileCheck %s --check-prefix=SENS
// SENS: qopt-assign-precision: unknown sensitivity 'guess'; expected estimate or measure
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 sensitivity=measure" 2>&1 | FileCheck %s --check-prefix=MEASURE
// MEASURE: qopt-assign-precision: sensitivity=measure needs inputs=a.npy[,b.npy...] (one .npy per call of the model's function)
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 sensitivity=measure inputs=a.npy" 2>&1 | FileCheck %s --check-prefix=MEASURE2
// MEASURE2: error: qopt-assign-precision: sensitivity=measure needs a module with one public function of one argument and one result
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 inputs=a.npy" 2>&1 | FileCheck %s --check-prefix=INPUTS
// INPUTS: qopt-assign-precision: inputs= is only used by sensitivity=measure

// Infeasible budgets name the smallest feasible one.
// RUN: not qopt %s --qopt-assign-precision="budget=avg-bits:2" 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: qopt-assign-precision: budget avg-bits:2 is infeasible; the smallest feasible budget is avg-bits:4.0000
// RUN: not qopt %s --qopt-assign-precision="budget=cost:0.5" 2>&1 | FileCheck %s --check-prefix=COST
// COST: error: qopt-assign-precision: budget cost:0.5 is infeasible; the smallest feasible budget is cost:0.
// RUN: not qopt %s --qopt-assign-precision="budget=sqnr:40 table=%S/Inputs/assign-precision-w4.txt" 2>&1 | FileCheck %s --check-prefix=SQNR
// SQNR: error: qopt-assign-precision: budget sqnr:40 is infeasible; the highest SQNR reachable is sqnr:{{[0-9]+\.[0-9]+}} (with the pins of

// Pin table errors name the file and the line.
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 table=%S/Inputs/assign-precision-unknown-op.txt" 2>&1 | FileCheck %s --check-prefix=OPNAME
// OPNAME: assign-precision-unknown-op.txt:2:1: error: no op named 'not_an_op' among the ops qopt-assign-precision decides
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 table=%S/Inputs/assign-precision-unknown-precision.txt" 2>&1 | FileCheck %s --check-prefix=PREC
// PREC: assign-precision-unknown-precision.txt:2:1: error: unknown precision 'int3'; target x86_64 offers i8 w4a8 bf16 f32
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 table=%S/Inputs/assign-precision-malformed.txt" 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: assign-precision-malformed.txt:1:1: error: malformed pin line 'fc': expected 'op_name precision'
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 table=%S/Inputs/assign-precision-twice.txt" 2>&1 | FileCheck %s --check-prefix=TWICE
// TWICE: assign-precision-twice.txt:3:1: error: op 'fc' is pinned twice (first on line 1)
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 table=%S/Inputs/assign-precision-not-applicable.txt" 2>&1 | FileCheck %s --check-prefix=APPLY
// APPLY: assign-precision-not-applicable.txt:1:1: error: precision 'w4a8' does not apply to op 'add' (no constant weight)
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 table=%S/Inputs/missing.txt" 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: qopt-assign-precision: cannot read the pin table '{{.*}}missing.txt'
// RUN: not qopt %s --qopt-assign-precision="budget=cost:1 target=sm_90 table=%S/Inputs/assign-precision-w4.txt" 2>&1 | FileCheck %s --check-prefix=OFFERED
// OFFERED: assign-precision-w4.txt:1:1: error: unknown precision 'w4a8'; target sm_90 offers i8 f16 bf16 f32

#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @model(%x: tensor<1x4xf32>, %a: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %xs = qopt.stats %x min [-1.0] max [1.0] : tensor<1x4xf32>
  %as = qopt.stats %a min [-2.0] max [2.0] : tensor<1x2xf32>
  %w = arith.constant dense<[[0.5, -0.25], [0.125, 1.0], [-0.75, 0.3], [0.2, -0.6]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2xf32>) -> tensor<1x2xf32>
  %y = linalg.matmul ins(%xs, %w : tensor<1x4xf32>, tensor<4x2xf32>) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32> loc("fc")
  %ys = qopt.stats %y min [-2.0] max [2.0] : tensor<1x2xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%ys, %as : tensor<1x2xf32>, tensor<1x2xf32>) outs(%e : tensor<1x2xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.addf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<1x2xf32> loc("add")
  return %s : tensor<1x2xf32>
}
