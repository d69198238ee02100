// RUN: qopt %s --qopt-cpu-expand-copies | FileCheck %s
// RUN: qopt %s --qopt-cpu-expand-copies --convert-linalg-to-loops | FileCheck %s --check-prefix=LOOPS

// A pad's interior copy (into a strided view) and a copy out of a strided
// view become linalg.copy; a contiguous copy, a dynamic one and a rank-0 one
// stay memref.copy.

// CHECK-LABEL: func @pad_interior
// CHECK: %[[V:.*]] = memref.subview
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%{{.*}} : memref<1x3x4x5xf32>) outs(%[[V]] : memref<1x3x4x5xf32, strided<[126, 42, 7, 1], offset: 8>>)
// LOOPS-LABEL: func @pad_interior
// LOOPS-COUNT-4: scf.for
// LOOPS: memref.load
// LOOPS: memref.store
// LOOPS-NOT: memref.copy
func.func @pad_interior(%src: memref<1x3x4x5xf32>, %dst: memref<1x3x6x7xf32>) {
  %v = memref.subview %dst[0, 0, 1, 1] [1, 3, 4, 5] [1, 1, 1, 1] : memref<1x3x6x7xf32> to memref<1x3x4x5xf32, strided<[126, 42, 7, 1], offset: 8>>
  memref.copy %src, %v : memref<1x3x4x5xf32> to memref<1x3x4x5xf32, strided<[126, 42, 7, 1], offset: 8>>
  return
}

// CHECK-LABEL: func @slice_out
// LOOPS-LABEL: func @slice_out
// CHECK: linalg.copy ins(%{{.*}} : memref<2x3xf32, strided<[8, 1], offset: 1>>)
func.func @slice_out(%src: memref<4x8xf32>, %dst: memref<2x3xf32>) {
  %v = memref.subview %src[0, 1] [2, 3] [1, 1] : memref<4x8xf32> to memref<2x3xf32, strided<[8, 1], offset: 1>>
  memref.copy %v, %dst : memref<2x3xf32, strided<[8, 1], offset: 1>> to memref<2x3xf32>
  return
}

// CHECK-LABEL: func @kept
// CHECK-NOT: linalg.copy
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<4x8xf32> to memref<4x8xf32>
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<?x8xf32> to memref<?x8xf32>
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<f32> to memref<f32>
// CHECK: return
func.func @kept(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<?x8xf32>,
                %d: memref<?x8xf32>, %e: memref<f32>, %f: memref<f32>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32>
  memref.copy %c, %d : memref<?x8xf32> to memref<?x8xf32>
  memref.copy %e, %f : memref<f32> to memref<f32>
  return
}

