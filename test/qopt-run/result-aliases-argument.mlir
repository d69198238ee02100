// A function whose result is written into one of its arguments: one-shot
// bufferization returns that argument's buffer and the deallocation pipeline
// clones it (bufferization.clone), which qopt-lower-cpu turns into an
// allocation and a copy (it used to be left unlowered).
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: qopt %s --qopt-lower-cpu -o %t/f.ll.mlir
// RUN: /usr/bin/python3 -c "import numpy as np; np.save('%t/a.npy', np.arange(64, dtype=np.int32).reshape(4, 16)); np.save('%t/b.npy', np.full((4, 16), 100, np.int32))"
// RUN: qopt-run %t/f.ll.mlir --entry add_into --input %t/a.npy --input %t/b.npy --output %t/c.npy
// RUN: /usr/bin/python3 -c "import numpy as np; c = np.load('%t/c.npy'); print('sum', bool((c == np.arange(64).reshape(4, 16) + 100).all()))" | FileCheck %s
// CHECK: sum True

func.func @add_into(%a: tensor<4x16xi32>, %b: tensor<4x16xi32>) -> tensor<4x16xi32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x16xi32>) outs(%b : tensor<4x16xi32>) {
  ^bb0(%in: i32, %o: i32):
    %s = arith.addi %in, %o : i32
    linalg.yield %s : i32
  } -> tensor<4x16xi32>
  return %r : tensor<4x16xi32>
}
