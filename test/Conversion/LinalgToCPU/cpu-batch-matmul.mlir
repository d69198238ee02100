// RUN: qopt %s --qopt-cpu-batch-matmul -split-input-file | FileCheck %s
// RUN: qopt %s --qopt-cpu-batch-matmul="tile-m=2 tile-n=1" -split-input-file | FileCheck %s --check-prefix=T21
// RUN: not qopt %s --qopt-cpu-batch-matmul="tile-m=0" -split-input-file 2>&1 | FileCheck %s --check-prefix=ERR

// Attention's Q . K^T: per batch, per block of 4 x 16 columns, per 4 rows,
// 16 accumulators started from the fill value, and over K a broadcast
// element of A times 16 contiguous elements of B, written into an empty
// tensor (the fill is no longer read).
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[A:.*]]: tensor<2x8x32xf32>, %[[B:.*]]: tensor<2x32x64xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x8x64xf32>
// CHECK: scf.for %[[BI:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[E]])
// CHECK: scf.for %[[N0:.*]] = %{{.*}} to %{{.*}} step %c64{{(_[0-9]+)?}} iter_args
// CHECK: scf.for %[[M0:.*]] = %{{.*}} to %{{.*}} step %c4{{(_[0-9]+)?}} iter_args
// CHECK-COUNT-16: vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %c32{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}} iter_args(
// CHECK: vector.transfer_read %[[B]][%[[BI]], %[[K]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<2x32x64xf32>, vector<16xf32>
// CHECK: tensor.extract %[[A]][%[[BI]], %{{.*}}, %[[K]]] : tensor<2x8x32xf32>
// CHECK-COUNT-16: vector.fma {{.*}} : vector<16xf32>
// CHECK: scf.yield
// CHECK-COUNT-16: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<16xf32>, tensor<2x8x64xf32>
// CHECK-NOT: linalg.batch_matmul
// T21-LABEL: func.func @attention
// T21: scf.for {{.*}} step %c16{{(_[0-9]+)?}} iter_args
// T21: scf.for {{.*}} step %c2{{(_[0-9]+)?}} iter_args
// T21-COUNT-2: vector.fma {{.*}} : vector<16xf32>
// T21-NOT: vector.fma
// T21: scf.yield
func.func @attention(%a: tensor<2x8x32xf32>, %b: tensor<2x32x64xf32>) -> tensor<2x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x64xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x8x32xf32>, tensor<2x32x64xf32>) outs(%f : tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
  return %r : tensor<2x8x64xf32>
}

// -----

// A 2-D matmul accumulating into C (no batch loop): the accumulators are
// read from C; 48 columns are one block of three vectors; 6 rows are one
// tile of 4 and two single rows.
// CHECK-LABEL: func.func @accumulate
// CHECK-SAME: %[[C:[a-z0-9]+]]: tensor<6x48xf32>
// CHECK: scf.for %{{.*}} iter_args(%{{.*}} = %[[C]])
// CHECK: scf.for %{{.*}} = %{{.*}} to %c4{{(_[0-9]+)?}} step %c4{{(_[0-9]+)?}} iter_args
// CHECK-COUNT-12: vector.transfer_read {{.*}} : tensor<6x48xf32>, vector<16xf32>
// CHECK: scf.for %{{.*}} = %c4{{(_[0-9]+)?}} to %c6{{(_[0-9]+)?}} step %c1{{(_[0-9]+)?}} iter_args
// CHECK-COUNT-3: vector.transfer_read {{.*}} : tensor<6x48xf32>, vector<16xf32>
// CHECK-NOT: linalg.matmul
func.func @accumulate(%a: tensor<6x5xf32>, %b: tensor<5x48xf32>, %c: tensor<6x48xf32>) -> tensor<6x48xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<6x5xf32>, tensor<5x48xf32>) outs(%c : tensor<6x48xf32>) -> tensor<6x48xf32>
  return %r : tensor<6x48xf32>
}

// -----

// Left alone: a constant operand (qopt-cpu-gemm's), N not a multiple of
// 16, transposed maps, and integers.
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.matmul
// CHECK: linalg.batch_matmul
// CHECK: linalg.matmul indexing_maps
// CHECK: linalg.matmul
// CHECK-NOT: vector.fma
func.func @left_alone(%a: tensor<4x8xf32>, %b3: tensor<2x8x24xf32>, %a3: tensor<2x4x8xf32>, %bt: tensor<16x8xf32>, %ai: tensor<4x8xi8>, %bi: tensor<8x16xi8>) -> (tensor<4x16xf32>, tensor<2x4x24xf32>, tensor<4x16xf32>, tensor<4x16xi32>) {
  %w = arith.constant dense<1.0> : tensor<8x16xf32>
  %e = tensor.empty() : tensor<4x16xf32>
  %r0 = linalg.matmul ins(%a, %w : tensor<4x8xf32>, tensor<8x16xf32>) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %e3 = tensor.empty() : tensor<2x4x24xf32>
  %r1 = linalg.batch_matmul ins(%a3, %b3 : tensor<2x4x8xf32>, tensor<2x8x24xf32>) outs(%e3 : tensor<2x4x24xf32>) -> tensor<2x4x24xf32>
  %r2 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>] ins(%a, %bt : tensor<4x8xf32>, tensor<16x8xf32>) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %ei = tensor.empty() : tensor<4x16xi32>
  %r3 = linalg.matmul ins(%ai, %bi : tensor<4x8xi8>, tensor<8x16xi8>) outs(%ei : tensor<4x16xi32>) -> tensor<4x16xi32>
  return %r0, %r1, %r2, %r3 : tensor<4x16xf32>, tensor<2x4x24xf32>, tensor<4x16xf32>, tensor<4x16xi32>
}

// ERR: qopt-cpu-batch-matmul: tile-m and tile-n must be positive
