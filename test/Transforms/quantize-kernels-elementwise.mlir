// RUN: qopt %s -split-input-file --qopt-quantize-kernels | FileCheck %s

// Add of two quantized tensors (TFLite's scheme): both are requantized to
// i32 with scale 2 * max(0.1, 0.04) / 2^20 = 1.9073486328125E-7, added as
// integers, and the sum is requantized to the output. The fused ReLU narrows
// the output storage to [zp, 127] = [-10, 127].
// CHECK-LABEL: func @add_relu
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[Y:.*]]: tensor<2x4xf32>)
// CHECK: %[[XQ:.*]] = quant.qcast %[[X]]
// CHECK: %[[YQ:.*]] = quant.qcast %[[Y]]
// CHECK: %[[XR:.*]] = qopt.requantize %[[XQ]] : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<2x4x!quant.uniform<i32:f32, 1.9073486328125001E-7>>
// CHECK: %[[XI:.*]] = quant.scast %[[XR]] : tensor<2x4x!quant.uniform<i32:f32, 1.9073486328125001E-7>> to tensor<2x4xi32>
// CHECK: %[[YR:.*]] = qopt.requantize %[[YQ]] : tensor<2x4x!quant.uniform<i8:f32, 4.000000e-02:5>> to tensor<2x4x!quant.uniform<i32:f32, 1.9073486328125001E-7>>
// CHECK: %[[YI:.*]] = quant.scast %[[YR]] : tensor<2x4x!quant.uniform<i32:f32, 1.9073486328125001E-7>> to tensor<2x4xi32>
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<2x4xi32>
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK-SAME: ins(%[[XI]], %[[YI]] : tensor<2x4xi32>, tensor<2x4xi32>) outs(%[[EMPTY]] : tensor<2x4xi32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: i32, %[[B:.*]]: i32, %{{.*}}: i32):
// CHECK-NEXT:   %[[S:.*]] = arith.addi %[[A]], %[[B]] : i32
// CHECK-NEXT:   linalg.yield %[[S]] : i32
// CHECK: %[[SUMQ:.*]] = quant.scast %[[SUM]] : tensor<2x4xi32> to tensor<2x4x!quant.uniform<i32:f32, 1.9073486328125001E-7>>
// CHECK: %[[R:.*]] = qopt.requantize %[[SUMQ]] : tensor<2x4x!quant.uniform<i32:f32, 1.9073486328125001E-7>> to tensor<2x4x!quant.uniform<i8<-10:127>:f32, 1.500000e-01:-10>>
// CHECK: %[[RI:.*]] = quant.scast %[[R]] : tensor<2x4x!quant.uniform<i8<-10:127>:f32, 1.500000e-01:-10>> to tensor<2x4xi8>
// CHECK: %[[OUT:.*]] = quant.scast %[[RI]] : tensor<2x4xi8> to tensor<2x4x!quant.uniform<i8:f32, 1.500000e-01:-10>>
// CHECK-NOT: linalg.add
// CHECK: return %[[OUT]]
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @add_relu(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>) -> tensor<2x4x!quant.uniform<i8:f32, 0.15:-10>> {
  %xq = quant.qcast %x : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x4xf32>
  %yq = quant.qcast %y : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.04:5>>
  %yd = quant.dcast %yq : tensor<2x4x!quant.uniform<i8:f32, 0.04:5>> to tensor<2x4xf32>
  %e = tensor.empty() : tensor<2x4xf32>
  %s = linalg.add ins(%xd, %yd : tensor<2x4xf32>, tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c0 = arith.constant 0.0 : f32
    %m = arith.maximumf %in, %c0 : f32
    linalg.yield %m : f32
  } -> tensor<2x4xf32>
  %rq = quant.qcast %r : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.15:-10>>
  return %rq : tensor<2x4x!quant.uniform<i8:f32, 0.15:-10>>
}

// -----

// Sub with a broadcast operand: the rescale happens before the broadcast,
// which stays in the integer generic's map.
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @sub_broadcast
// CHECK: %[[YR:.*]] = qopt.requantize %{{.*}} : tensor<4x!quant.uniform<i8:f32, 4.000000e-02:5>> to tensor<4x!quant.uniform<i32:f32, 1.9073486328125001E-7>>
// CHECK: %[[YI:.*]] = quant.scast %[[YR]]
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[$ROW]], #{{.*}}], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %[[YI]] : tensor<2x4xi32>, tensor<4xi32>)
// CHECK:   arith.subi
// CHECK: qopt.requantize %{{.*}} : tensor<2x4x!quant.uniform<i32:f32, 1.9073486328125001E-7>> to tensor<2x4x!quant.uniform<i8:f32, 1.500000e-01:-10>>
func.func @sub_broadcast(%x: tensor<2x4xf32>, %y: tensor<4xf32>) -> tensor<2x4x!quant.uniform<i8:f32, 0.15:-10>> {
  %xq = quant.qcast %x : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x4xf32>
  %yq = quant.qcast %y : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.04:5>>
  %yd = quant.dcast %yq : tensor<4x!quant.uniform<i8:f32, 0.04:5>> to tensor<4xf32>
  %e = tensor.empty() : tensor<2x4xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%xd, %yd : tensor<2x4xf32>, tensor<4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%i: f32, %j: f32, %out: f32):
    %d = arith.subf %i, %j : f32
    linalg.yield %d : f32
  } -> tensor<2x4xf32>
  %sq = quant.qcast %s : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.15:-10>>
  return %sq : tensor<2x4x!quant.uniform<i8:f32, 0.15:-10>>
}

// -----

// Mul: (a - za) * (b - zb) in i32 with scale f32(0.1) * f32(0.04).
// CHECK-LABEL: func @mul
// CHECK: %[[P:.*]] = linalg.generic
// CHECK-NEXT: ^bb0(%[[A:.*]]: i8, %[[B:.*]]: i8, %{{.*}}: i32):
// CHECK-NEXT:   %[[AE:.*]] = arith.extsi %[[A]] : i8 to i32
// CHECK-NEXT:   %[[AZ:.*]] = arith.constant -3 : i32
// CHECK-NEXT:   %[[AS:.*]] = arith.subi %[[AE]], %[[AZ]] : i32
// CHECK-NEXT:   %[[BE:.*]] = arith.extsi %[[B]] : i8 to i32
// CHECK-NEXT:   %[[BZ:.*]] = arith.constant 5 : i32
// CHECK-NEXT:   %[[BS:.*]] = arith.subi %[[BE]], %[[BZ]] : i32
// CHECK-NEXT:   %[[M:.*]] = arith.muli %[[AS]], %[[BS]] : i32
// CHECK-NEXT:   linalg.yield %[[M]] : i32
// CHECK: %[[PQ:.*]] = quant.scast %[[P]] : tensor<2x4xi32> to tensor<2x4x!quant.uniform<i32:f32, 0.0040000001899898052>>
// CHECK: qopt.requantize %[[PQ]] : tensor<2x4x!quant.uniform<i32:f32, 0.0040000001899898052>> to tensor<2x4x!quant.uniform<i8:f32, 1.500000e-01:-10>>
// CHECK-NOT: arith.mulf
func.func @mul(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>) -> tensor<2x4x!quant.uniform<i8:f32, 0.15:-10>> {
  %xq = quant.qcast %x : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x4xf32>
  %yq = quant.qcast %y : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.04:5>>
  %yd = quant.dcast %yq : tensor<2x4x!quant.uniform<i8:f32, 0.04:5>> to tensor<2x4xf32>
  %s = arith.mulf %xd, %yd : tensor<2x4xf32>
  %sq = quant.qcast %s : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.15:-10>>
  return %sq : tensor<2x4x!quant.uniform<i8:f32, 0.15:-10>>
}

// -----

// Max pooling keeps the input type: integer max, init -inf -> -128, and the
// qcast to the same type needs no requantize.
// CHECK-DAG: #[[$IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d4, d2 * 2 + d5, d3)>
// CHECK-DAG: #[[$WIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-DAG: #[[$OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @max_pool
// CHECK-DAG: %[[WIN:.*]] = tensor.empty() : tensor<2x2xf32>
// CHECK-DAG: %[[X:.*]] = quant.scast %{{.*}} : tensor<1x4x4x2x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<1x4x4x2xi8>
// CHECK-DAG: %[[MIN:.*]] = arith.constant -128 : i8
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[MIN]] : i8) outs(%{{.*}} : tensor<1x2x2x2xi8>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$WIN]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[WIN]] : tensor<1x4x4x2xi8>, tensor<2x2xf32>) outs(%[[INIT]] : tensor<1x2x2x2xi8>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: i8, %{{.*}}: f32, %[[ACC:.*]]: i8):
// CHECK-NEXT:   %[[M:.*]] = arith.maxsi %[[IN]], %[[ACC]] : i8
// CHECK-NEXT:   linalg.yield %[[M]] : i8
// CHECK: %[[R:.*]] = quant.scast %[[MAX]] : tensor<1x2x2x2xi8> to tensor<1x2x2x2x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK-NOT: qopt.requantize
// CHECK: return %[[R]]
func.func @max_pool(%x: tensor<1x4x4x2xf32>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-3>> {
  %xq = quant.qcast %x : tensor<1x4x4x2xf32> to tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4x4x2xf32>
  %w = tensor.empty() : tensor<2x2xf32>
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %r = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>}
         ins(%xd, %w : tensor<1x4x4x2xf32>, tensor<2x2xf32>) outs(%f : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %rq = quant.qcast %r : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-3>>
  return %rq : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// Max pooling of u8 values whose init 0.0 is exactly the zero point, into
// another output type: unsigned max, then a requantize.
// CHECK-LABEL: func @max_pool_u8_zero_init
// CHECK-DAG: %[[ZP:.*]] = arith.constant -128 : i8
// CHECK: linalg.fill ins(%[[ZP]] : i8)
// CHECK: linalg.generic
// CHECK:   arith.maxui
// CHECK: %[[R:.*]] = quant.scast %{{.*}} : tensor<1x2x1x1xi8> to tensor<1x2x1x1x!quant.uniform<u8:f32, 1.000000e-01:128>>
// CHECK: qopt.requantize %[[R]] : tensor<1x2x1x1x!quant.uniform<u8:f32, 1.000000e-01:128>> to tensor<1x2x1x1x!quant.uniform<u8:f32, 5.000000e-02>>
func.func @max_pool_u8_zero_init(%x: tensor<1x2x2x2xf32>) -> tensor<1x2x1x1x!quant.uniform<u8:f32, 0.05:0>> {
  %xq = quant.qcast %x : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<u8:f32, 0.1:128>>
  %xd = quant.dcast %xq : tensor<1x2x2x2x!quant.uniform<u8:f32, 0.1:128>> to tensor<1x2x2x2xf32>
  %w = tensor.empty() : tensor<2x2xf32>
  %z = arith.constant dense<0.0> : tensor<1x2x1x1xf32>
  %r = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
         ins(%xd, %w : tensor<1x2x2x2xf32>, tensor<2x2xf32>) outs(%z : tensor<1x2x1x1xf32>) -> tensor<1x2x1x1xf32>
  %rq = quant.qcast %r : tensor<1x2x1x1xf32> to tensor<1x2x1x1x!quant.uniform<u8:f32, 0.05:0>>
  return %rq : tensor<1x2x1x1x!quant.uniform<u8:f32, 0.05:0>>
}

// -----

// Average pooling written as a sum pool and a division by the window size:
// q - zp is summed in i32 and the division becomes the accumulator scale
// f32(0.1) / 9 = 0.011111111380159855.
// CHECK-LABEL: func @avg_pool
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : i32) outs(%{{.*}} : tensor<1x2x2x2xi32>)
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK-SAME: outs(%[[INIT]] : tensor<1x2x2x2xi32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: i8, %{{.*}}: f32, %[[ACC:.*]]: i32):
// CHECK-NEXT:   %[[E:.*]] = arith.extsi %[[IN]] : i8 to i32
// CHECK-NEXT:   %[[ZP:.*]] = arith.constant -3 : i32
// CHECK-NEXT:   %[[V:.*]] = arith.subi %[[E]], %[[ZP]] : i32
// CHECK-NEXT:   %[[S:.*]] = arith.addi %[[ACC]], %[[V]] : i32
// CHECK-NEXT:   linalg.yield %[[S]] : i32
// CHECK: %[[SUMQ:.*]] = quant.scast %[[SUM]] : tensor<1x2x2x2xi32> to tensor<1x2x2x2x!quant.uniform<i32:f32, 0.011111111380159855>>
// CHECK: qopt.requantize %[[SUMQ]] : tensor<1x2x2x2x!quant.uniform<i32:f32, 0.011111111380159855>> to tensor<1x2x2x2x!quant.uniform<i8:f32, 1.500000e-01:-10>>
// CHECK-NOT: arith.divf
func.func @avg_pool(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2x!quant.uniform<i8:f32, 0.15:-10>> {
  %xq = quant.qcast %x : tensor<1x2x4x4xf32> to tensor<1x2x4x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x2x4x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x2x4x4xf32>
  %w = tensor.empty() : tensor<3x3xf32>
  %e = tensor.empty() : tensor<1x2x2x2xf32>
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %s = linalg.pooling_nchw_sum {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
         ins(%xd, %w : tensor<1x2x4x4xf32>, tensor<3x3xf32>) outs(%f : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<1x2x2x2xf32>) outs(%e : tensor<1x2x2x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %c9 = arith.constant 9.0 : f32
    %d = arith.divf %in, %c9 : f32
    linalg.yield %d : f32
  } -> tensor<1x2x2x2xf32>
  %aq = quant.qcast %a : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<i8:f32, 0.15:-10>>
  return %aq : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.15:-10>>
}

// -----

// Ops that only move values run on the storage integers and keep the scale:
// collapse_shape, then (after the next QDQ pair) transpose.
// CHECK-LABEL: func @collapse_then_transpose
// CHECK: %[[XQ:.*]] = quant.qcast
// CHECK: %[[X:.*]] = quant.scast %[[XQ]] : tensor<2x3x4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<2x3x4xi8>
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<2x3x4xi8> into tensor<6x4xi8>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x6xi8>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[C]] : tensor<6x4xi8>) outs(%[[E]] : tensor<4x6xi8>) permutation = [1, 0]
// CHECK: %[[R:.*]] = quant.scast %[[T]] : tensor<4x6xi8> to tensor<4x6x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK: return %[[R]]
func.func @collapse_then_transpose(%x: tensor<2x3x4xf32>) -> tensor<4x6x!quant.uniform<i8:f32, 0.1:-3>> {
  %xq = quant.qcast %x : tensor<2x3x4xf32> to tensor<2x3x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<2x3x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x3x4xf32>
  %c = tensor.collapse_shape %xd [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
  %cq = quant.qcast %c : tensor<6x4xf32> to tensor<6x4x!quant.uniform<i8:f32, 0.1:-3>>
  %cd = quant.dcast %cq : tensor<6x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<6x4xf32>
  %e = tensor.empty() : tensor<4x6xf32>
  %t = linalg.transpose ins(%cd : tensor<6x4xf32>) outs(%e : tensor<4x6xf32>) permutation = [1, 0]
  %tq = quant.qcast %t : tensor<4x6xf32> to tensor<4x6x!quant.uniform<i8:f32, 0.1:-3>>
  return %tq : tensor<4x6x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// tensor.reshape, zero padding (pads with the zero point), extract_slice and
// expand_shape.
// CHECK-LABEL: func @reshape_pad_slice_expand
// CHECK: %[[X:.*]] = quant.scast %{{.*}} : tensor<2x3x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<2x3xi8>
// CHECK: %[[R:.*]] = tensor.reshape %[[X]](%{{.*}}) : (tensor<2x3xi8>, tensor<2xi64>) -> tensor<3x2xi8>
// CHECK: %[[P:.*]] = tensor.pad %[[R]] low[0, 1] high[0, 1]
// CHECK:   %[[ZP:.*]] = arith.constant -3 : i8
// CHECK:   tensor.yield %[[ZP]] : i8
// CHECK: } : tensor<3x2xi8> to tensor<3x4xi8>
// CHECK: %[[S:.*]] = tensor.extract_slice %[[P]][0, 1] [3, 2] [1, 2] : tensor<3x4xi8> to tensor<3x2xi8>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[S]] {{\[}}[0, 1], [2]] output_shape [1, 3, 2] : tensor<3x2xi8> into tensor<1x3x2xi8>
// CHECK: %[[OUT:.*]] = quant.scast %[[E]] : tensor<1x3x2xi8> to tensor<1x3x2x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK-NOT: quant.dcast
// CHECK: return %[[OUT]]
func.func @reshape_pad_slice_expand(%x: tensor<2x3xf32>) -> tensor<1x3x2x!quant.uniform<i8:f32, 0.1:-3>> {
  %xq = quant.qcast %x : tensor<2x3xf32> to tensor<2x3x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<2x3x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x3xf32>
  %shape = arith.constant dense<[3, 2]> : tensor<2xi64>
  %r = tensor.reshape %xd(%shape) : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  %rq = quant.qcast %r : tensor<3x2xf32> to tensor<3x2x!quant.uniform<i8:f32, 0.1:-3>>
  %rd = quant.dcast %rq : tensor<3x2x!quant.uniform<i8:f32, 0.1:-3>> to tensor<3x2xf32>
  %cst = arith.constant 0.0 : f32
  %p = tensor.pad %rd low[0, 1] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %cst : f32
  } : tensor<3x2xf32> to tensor<3x4xf32>
  %pq = quant.qcast %p : tensor<3x4xf32> to tensor<3x4x!quant.uniform<i8:f32, 0.1:-3>>
  %pd = quant.dcast %pq : tensor<3x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<3x4xf32>
  %s = tensor.extract_slice %pd[0, 1] [3, 2] [1, 2] : tensor<3x4xf32> to tensor<3x2xf32>
  %sq = quant.qcast %s : tensor<3x2xf32> to tensor<3x2x!quant.uniform<i8:f32, 0.1:-3>>
  %sd = quant.dcast %sq : tensor<3x2x!quant.uniform<i8:f32, 0.1:-3>> to tensor<3x2xf32>
  %ex = tensor.expand_shape %sd [[0, 1], [2]] output_shape [1, 3, 2] : tensor<3x2xf32> into tensor<1x3x2xf32>
  %eq = quant.qcast %ex : tensor<1x3x2xf32> to tensor<1x3x2x!quant.uniform<i8:f32, 0.1:-3>>
  return %eq : tensor<1x3x2x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// Concat of inputs that share the output's type concatenates storage
// integers.
// CHECK-LABEL: func @concat_common_scale
// CHECK: %[[A:.*]] = quant.scast %{{.*}} : tensor<1x4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<1x4xi8>
// CHECK: %[[B:.*]] = quant.scast %{{.*}} : tensor<1x4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<1x4xi8>
// CHECK: %[[C:.*]] = tensor.concat dim(1) %[[A]], %[[B]] : (tensor<1x4xi8>, tensor<1x4xi8>) -> tensor<1x8xi8>
// CHECK: %[[R:.*]] = quant.scast %[[C]] : tensor<1x8xi8> to tensor<1x8x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK: return %[[R]]
func.func @concat_common_scale(%x: tensor<1x4xf32>, %y: tensor<1x4xf32>) -> tensor<1x8x!quant.uniform<i8:f32, 0.1:-3>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %yq = quant.qcast %y : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %yd = quant.dcast %yq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %c = tensor.concat dim(1) %xd, %yd : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x8xf32>
  %cq = quant.qcast %c : tensor<1x8xf32> to tensor<1x8x!quant.uniform<i8:f32, 0.1:-3>>
  return %cq : tensor<1x8x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// An input of another type is requantized to the output type first.
// CHECK-LABEL: func @concat_requantized_input
// CHECK: %[[YQ:.*]] = quant.qcast %{{.*}} : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 5.000000e-02:2>>
// CHECK: %[[YR:.*]] = qopt.requantize %[[YQ]] : tensor<1x4x!quant.uniform<i8:f32, 5.000000e-02:2>> to tensor<1x4x!quant.uniform<i8:f32, 1.000000e-01:-3>>
// CHECK: %[[B:.*]] = quant.scast %[[YR]]
// CHECK: tensor.concat dim(1) %{{.*}}, %[[B]]
func.func @concat_requantized_input(%x: tensor<1x4xf32>, %y: tensor<1x4xf32>) -> tensor<1x8x!quant.uniform<i8:f32, 0.1:-3>> {
  %xq = quant.qcast %x : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
  %yq = quant.qcast %y : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.05:2>>
  %yd = quant.dcast %yq : tensor<1x4x!quant.uniform<i8:f32, 0.05:2>> to tensor<1x4xf32>
  %c = tensor.concat dim(1) %xd, %yd : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x8xf32>
  %cq = quant.qcast %c : tensor<1x8xf32> to tensor<1x8x!quant.uniform<i8:f32, 0.1:-3>>
  return %cq : tensor<1x8x!quant.uniform<i8:f32, 0.1:-3>>
}

// -----

// A standalone ReLU between a dcast and a qcast is a requantize with
// narrowed storage.
// CHECK-LABEL: func @relu_standalone
// CHECK: %[[XQ:.*]] = quant.qcast
// CHECK: %[[R:.*]] = qopt.requantize %[[XQ]] : tensor<4x!quant.uniform<i8:f32, 1.000000e-01:-3>> to tensor<4x!quant.uniform<i8<2:127>:f32, 5.000000e-02:2>>
// CHECK: %[[I:.*]] = quant.scast %[[R]] : tensor<4x!quant.uniform<i8<2:127>:f32, 5.000000e-02:2>> to tensor<4xi8>
// CHECK: %[[O:.*]] = quant.scast %[[I]] : tensor<4xi8> to tensor<4x!quant.uniform<i8:f32, 5.000000e-02:2>>
// CHECK: return %[[O]]
func.func @relu_standalone(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.05:2>> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.1:-3>>
  %d = quant.dcast %q : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
  %c0 = arith.constant dense<0.0> : tensor<4xf32>
  %r = arith.maximumf %d, %c0 : tensor<4xf32>
  %rq = quant.qcast %r : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.05:2>>
  return %rq : tensor<4x!quant.uniform<i8:f32, 0.05:2>>
}

// -----

// Softmax has no integer kernel: it stays float between its QDQ pairs.
// CHECK-LABEL: func @softmax_stays_float
// CHECK: %[[Q:.*]] = quant.qcast
// CHECK: %[[D:.*]] = quant.dcast %[[Q]]
// CHECK: %[[S:.*]] = linalg.softmax dimension(1) ins(%[[D]] : tensor<2x4xf32>)
// CHECK: %[[R:.*]] = quant.qcast %[[S]] : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK: return %[[R]]
func.func @softmax_stays_float(%x: tensor<2x4xf32>) -> tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>> {
  %xq = quant.qcast %x : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>>
  %xd = quant.dcast %xq : tensor<2x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<2x4xf32>
  %e = tensor.empty() : tensor<2x4xf32>
  %s = linalg.softmax dimension(1) ins(%xd : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %sq = quant.qcast %s : tensor<2x4xf32> to tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
  return %sq : tensor<2x4x!quant.uniform<i8:f32, 0.00390625:-128>>
}
