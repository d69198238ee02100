// Runs each kernel twice, JIT-compiled: as the float QDQ simulation
// (qcast/dcast lowered by qopt-lower-quant) and as the integer program
// qopt-quantize-kernels makes of it. With float requantization (ONNX Runtime
// arithmetic) both give the same int8 outputs, compared here through a
// position-weighted checksum, sum (i + 1) * q[i], of each kernel's output.
// (fixed-point requantization rounds ties differently: up to 1 LSB apart.)
//
// DEFINE: %{lower} = --convert-elementwise-to-linalg --one-shot-bufferize=bufferize-function-boundaries --convert-linalg-to-loops --expand-strided-metadata --lower-affine --finalize-memref-to-llvm --convert-scf-to-cf --convert-math-to-llvm --convert-to-llvm --reconcile-unrealized-casts
// RUN: qopt %s --qopt-lower-quant=requant-mode=float %{lower} -o %t.sim.mlir
// RUN: qopt %s --qopt-quantize-kernels --qopt-lower-quant=requant-mode=float %{lower} -o %t.int.mlir
// RUN: mlir-runner %t.sim.mlir -e add_relu -entry-point-result=i32 | FileCheck %s --check-prefix=ADD
// RUN: mlir-runner %t.int.mlir -e add_relu -entry-point-result=i32 | FileCheck %s --check-prefix=ADD
// RUN: mlir-runner %t.sim.mlir -e mul -entry-point-result=i32 | FileCheck %s --check-prefix=MUL
// RUN: mlir-runner %t.int.mlir -e mul -entry-point-result=i32 | FileCheck %s --check-prefix=MUL
// RUN: mlir-runner %t.sim.mlir -e avg_pool -entry-point-result=i32 | FileCheck %s --check-prefix=AVG
// RUN: mlir-runner %t.int.mlir -e avg_pool -entry-point-result=i32 | FileCheck %s --check-prefix=AVG
// RUN: mlir-runner %t.sim.mlir -e max_pool -entry-point-result=i32 | FileCheck %s --check-prefix=MAX
// RUN: mlir-runner %t.int.mlir -e max_pool -entry-point-result=i32 | FileCheck %s --check-prefix=MAX
// RUN: mlir-runner %t.sim.mlir -e fc_bias_relu6 -entry-point-result=i32 | FileCheck %s --check-prefix=FC
// RUN: mlir-runner %t.int.mlir -e fc_bias_relu6 -entry-point-result=i32 | FileCheck %s --check-prefix=FC
//
// The integer program has no float kernel left:
// RUN: qopt %s --qopt-quantize-kernels | FileCheck %s --check-prefix=INT \
// RUN:   --implicit-check-not=arith.addf --implicit-check-not=arith.mulf \
// RUN:   --implicit-check-not=arith.divf --implicit-check-not=arith.maximumf \
// RUN:   --implicit-check-not=arith.minimumf --implicit-check-not=quant.dcast \
// RUN:   --implicit-check-not=linalg.matmul --implicit-check-not=linalg.pooling
// INT-COUNT-7: qopt.requantize

// ADD: -2689
// MUL: -1879
// AVG: 2410
// MAX: 1655
// FC: -393

// sum over i of (i + 1) * x[i], in i32.
func.func @checksum(%t: tensor<?xi8>) -> i32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0 : i32
  %n = tensor.dim %t, %c0 : tensor<?xi8>
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (i32) {
    %x = tensor.extract %t[%i] : tensor<?xi8>
    %xe = arith.extsi %x : i8 to i32
    %i1 = arith.addi %i, %c1 : index
    %w = arith.index_cast %i1 : index to i32
    %p = arith.muli %xe, %w : i32
    %s = arith.addi %acc, %p : i32
    scf.yield %s : i32
  }
  return %sum : i32
}

// Add with a fused ReLU.
func.func @add_relu() -> i32 {
  %ai = arith.constant dense<[[37, -51, 74, -104, -91, -80, 59, -99], [-19, -109, -84, 94, 86, -93, -5, -82]]> : tensor<2x8xi8>
  %aq = quant.scast %ai : tensor<2x8xi8> to tensor<2x8x!quant.uniform<i8:f32, 0.0627:-14>>
  %a = quant.dcast %aq : tensor<2x8x!quant.uniform<i8:f32, 0.0627:-14>> to tensor<2x8xf32>
  %bi = arith.constant dense<[[89, -98, -65, -14, -97, 75, -103, -15], [-105, -60, 20, 86, -55, -68, 29, -36]]> : tensor<2x8xi8>
  %bq = quant.scast %bi : tensor<2x8xi8> to tensor<2x8x!quant.uniform<i8:f32, 0.0381:9>>
  %b = quant.dcast %bq : tensor<2x8x!quant.uniform<i8:f32, 0.0381:9>> to tensor<2x8xf32>
  %e = tensor.empty() : tensor<2x8xf32>
  %s = linalg.add ins(%a, %b : tensor<2x8xf32>, tensor<2x8xf32>) outs(%e : tensor<2x8xf32>) -> tensor<2x8xf32>
  %z = arith.constant dense<0.0> : tensor<2x8xf32>
  %r = arith.maximumf %s, %z : tensor<2x8xf32>
  %q = quant.qcast %r : tensor<2x8xf32> to tensor<2x8x!quant.uniform<i8:f32, 0.0702:-41>>
  %oi = quant.scast %q : tensor<2x8x!quant.uniform<i8:f32, 0.0702:-41>> to tensor<2x8xi8>
  %flat = tensor.collapse_shape %oi [[0, 1]] : tensor<2x8xi8> into tensor<16xi8>
  %dyn = tensor.cast %flat : tensor<16xi8> to tensor<?xi8>
  %sum = call @checksum(%dyn) : (tensor<?xi8>) -> i32
  return %sum : i32
}

// Mul.
func.func @mul() -> i32 {
  %ai = arith.constant dense<[[-76, -32, 62, -79, -96, -98, -23, 126], [90, 32, 110, 104, 57, 25, -1, -36]]> : tensor<2x8xi8>
  %aq = quant.scast %ai : tensor<2x8xi8> to tensor<2x8x!quant.uniform<i8:f32, 0.0627:-14>>
  %a = quant.dcast %aq : tensor<2x8x!quant.uniform<i8:f32, 0.0627:-14>> to tensor<2x8xf32>
  %bi = arith.constant dense<[[-4, -87, 25, 125, 47, 101, 19, -91], [-68, 86, -44, 47, -51, 122, 87, -108]]> : tensor<2x8xi8>
  %bq = quant.scast %bi : tensor<2x8xi8> to tensor<2x8x!quant.uniform<i8:f32, 0.0381:9>>
  %b = quant.dcast %bq : tensor<2x8x!quant.uniform<i8:f32, 0.0381:9>> to tensor<2x8xf32>
  %s = arith.mulf %a, %b : tensor<2x8xf32>
  %q = quant.qcast %s : tensor<2x8xf32> to tensor<2x8x!quant.uniform<i8:f32, 0.137:3>>
  %oi = quant.scast %q : tensor<2x8x!quant.uniform<i8:f32, 0.137:3>> to tensor<2x8xi8>
  %flat = tensor.collapse_shape %oi [[0, 1]] : tensor<2x8xi8> into tensor<16xi8>
  %dyn = tensor.cast %flat : tensor<16xi8> to tensor<?xi8>
  %sum = call @checksum(%dyn) : (tensor<?xi8>) -> i32
  return %sum : i32
}

// Average pooling: sum pool, then division by the window size.
func.func @avg_pool() -> i32 {
  %ai = arith.constant dense<[[[[-89, 32], [46, 51], [126, 105], [-93, -81]], [[10, 114], [-95, -97], [30, 100], [17, 69]], [[49, -117], [108, 53], [-42, -69], [124, -98]], [[-17, 19], [-62, -2], [75, 72], [126, -87]]]]> : tensor<1x4x4x2xi8>
  %aq = quant.scast %ai : tensor<1x4x4x2xi8> to tensor<1x4x4x2x!quant.uniform<i8:f32, 0.0627:-14>>
  %a = quant.dcast %aq : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.0627:-14>> to tensor<1x4x4x2xf32>
  %w = tensor.empty() : tensor<3x3xf32>
  %zz = arith.constant dense<0.0> : tensor<1x2x2x2xf32>
  %s = linalg.pooling_nhwc_sum {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%a, %w : tensor<1x4x4x2xf32>, tensor<3x3xf32>) outs(%zz : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %c9 = arith.constant dense<9.0> : tensor<1x2x2x2xf32>
  %d = arith.divf %s, %c9 : tensor<1x2x2x2xf32>
  %q = quant.qcast %d : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<i8:f32, 0.0213:-6>>
  %oi = quant.scast %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.0213:-6>> to tensor<1x2x2x2xi8>
  %flat = tensor.collapse_shape %oi [[0, 1, 2, 3]] : tensor<1x2x2x2xi8> into tensor<8xi8>
  %dyn = tensor.cast %flat : tensor<8xi8> to tensor<?xi8>
  %sum = call @checksum(%dyn) : (tensor<?xi8>) -> i32
  return %sum : i32
}

// Max pooling into another type (a requantize after the integer max).
func.func @max_pool() -> i32 {
  %ai = arith.constant dense<[[[[-43, 101], [77, 14], [-58, 92], [14, 84]], [[55, 66], [-10, -51], [-86, -38], [-51, -10]], [[-9, -122], [120, -35], [6, 16], [-126, -54]], [[86, 61], [35, -64], [-101, 105], [72, 75]]]]> : tensor<1x4x4x2xi8>
  %aq = quant.scast %ai : tensor<1x4x4x2xi8> to tensor<1x4x4x2x!quant.uniform<i8:f32, 0.0627:-14>>
  %a = quant.dcast %aq : tensor<1x4x4x2x!quant.uniform<i8:f32, 0.0627:-14>> to tensor<1x4x4x2xf32>
  %w = tensor.empty() : tensor<2x2xf32>
  %m = arith.constant dense<0xFF800000> : tensor<1x2x2x2xf32>
  %s = linalg.pooling_nhwc_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%a, %w : tensor<1x4x4x2xf32>, tensor<2x2xf32>) outs(%m : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %q = quant.qcast %s : tensor<1x2x2x2xf32> to tensor<1x2x2x2x!quant.uniform<i8:f32, 0.0702:-41>>
  %oi = quant.scast %q : tensor<1x2x2x2x!quant.uniform<i8:f32, 0.0702:-41>> to tensor<1x2x2x2xi8>
  %flat = tensor.collapse_shape %oi [[0, 1, 2, 3]] : tensor<1x2x2x2xi8> into tensor<8xi8>
  %dyn = tensor.cast %flat : tensor<8xi8> to tensor<?xi8>
  %sum = call @checksum(%dyn) : (tensor<?xi8>) -> i32
  return %sum : i32
}

// Fully connected, per-channel weights, i32 bias and ReLU6.
func.func @fc_bias_relu6() -> i32 {
  %ai = arith.constant dense<[[76, 73, -75, 118, 77, -97, -31, -94], [-22, 97, -45, -72, 46, -102, -76, -128]]> : tensor<2x8xi8>
  %aq = quant.scast %ai : tensor<2x8xi8> to tensor<2x8x!quant.uniform<i8:f32, 0.0627:-14>>
  %a = quant.dcast %aq : tensor<2x8x!quant.uniform<i8:f32, 0.0627:-14>> to tensor<2x8xf32>
  %wi = arith.constant dense<[[18, -89, 10], [-102, 115, -34], [30, -121, -109], [96, -74, 30], [-31, -89, 35], [-63, 117, -39], [27, -34, -6], [-96, -98, 90]]> : tensor<8x3xi8>
  %wq = quant.scast %wi : tensor<8x3xi8> to tensor<8x3x!quant.uniform<i8<-127:127>:f32:1, {0.0113, 0.0071, 0.0158}>>
  %w = quant.dcast %wq : tensor<8x3x!quant.uniform<i8<-127:127>:f32:1, {0.0113, 0.0071, 0.0158}>> to tensor<8x3xf32>
  %bi = arith.constant dense<[99, 54, 83]> : tensor<3xi32>
  %bq = quant.scast %bi : tensor<3xi32> to tensor<3x!quant.uniform<i32:f32:0, {0.0007085100514814258, 0.00044517003698274493, 0.0009906600462272763}>>
  %bd = quant.dcast %bq : tensor<3x!quant.uniform<i32:f32:0, {0.0007085100514814258, 0.00044517003698274493, 0.0009906600462272763}>> to tensor<3xf32>
  %zz = arith.constant dense<0.0> : tensor<2x3xf32>
  %y = linalg.matmul ins(%a, %w : tensor<2x8xf32>, tensor<8x3xf32>) outs(%zz : tensor<2x3xf32>) -> tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %yb = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%y, %bd : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %b: f32, %out: f32):
    %t = arith.addf %in, %b : f32
    linalg.yield %t : f32
  } -> tensor<2x3xf32>
  %c6 = arith.constant dense<6.0> : tensor<2x3xf32>
  %r0 = arith.maximumf %yb, %zz : tensor<2x3xf32>
  %r = arith.minimumf %r0, %c6 : tensor<2x3xf32>
  %q = quant.qcast %r : tensor<2x3xf32> to tensor<2x3x!quant.uniform<i8:f32, 0.0235:-128>>
  %oi = quant.scast %q : tensor<2x3x!quant.uniform<i8:f32, 0.0235:-128>> to tensor<2x3xi8>
  %flat = tensor.collapse_shape %oi [[0, 1]] : tensor<2x3xi8> into tensor<6xi8>
  %dyn = tensor.cast %flat : tensor<6xi8> to tensor<?xi8>
  %sum = call @checksum(%dyn) : (tensor<?xi8>) -> i32
  return %sum : i32
}
