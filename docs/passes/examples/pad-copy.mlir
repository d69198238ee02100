// A pad's interior, copied into a strided view of the padded buffer.
func.func @pad_interior(%src: memref<1x3x4x5xf32>, %dst: memref<1x3x6x7xf32>) {
  %v = memref.subview %dst[0, 0, 1, 1] [1, 3, 4, 5] [1, 1, 1, 1] : memref<1x3x6x7xf32> to memref<1x3x4x5xf32, strided<[126, 42, 7, 1], offset: 8>>
  memref.copy %src, %v : memref<1x3x4x5xf32> to memref<1x3x4x5xf32, strided<[126, 42, 7, 1], offset: 8>>
  return
}
