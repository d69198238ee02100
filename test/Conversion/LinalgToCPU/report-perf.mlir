// qopt-report-perf on models taken through qopt-legalize,
// qopt-quantize-kernels and qopt-fold-requant (the integer form it reads).
// Every expected cost below is computed by hand in the comments from the
// cost table of qopt-assign-precision (lib/Quant/MixedPrecision.cpp) and
// the rules of docs/perf-report.md:
//   x86_64: i8 throughput 1, f32 throughput 0.25, 2 int8-MACs per byte;
//   aarch64: i8 1, f32 0.125, 2 per byte;
//   time = MACs / throughput + 2 * bytes.
// Integer kernels: bytes = weight (1 byte each + 4 per scale) + activations
// and result at 1 byte (f32 side: 4 bytes each, no scales). Quantize and
// dequantize: elements / f32 throughput + 2 * (bytes in + bytes out).
// Requantize: elements / i8 throughput + 2 * (bytes in + bytes out).
//
// RUN: qopt %s -split-input-file --qopt-legalize --qopt-quantize-kernels --qopt-fold-requant --qopt-report-perf -o /dev/null 2>&1 | FileCheck %s
// RUN: qopt %s -split-input-file --qopt-legalize --qopt-quantize-kernels --qopt-fold-requant --qopt-report-perf=target=aarch64 -o /dev/null 2>&1 | FileCheck %s --check-prefix=ARM
// RUN: qopt %s -split-input-file --qopt-legalize --qopt-quantize-kernels --qopt-fold-requant --qopt-report-perf="warn-threshold=2.0 top=1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=HIGH
//
// The report does not change the IR: the module printed after it is the
// module printed before it.
// RUN: qopt %s -split-input-file --qopt-legalize --qopt-quantize-kernels --qopt-fold-requant -o %t.before.mlir
// RUN: qopt %t.before.mlir -split-input-file --qopt-report-perf=output=%t.report.txt -o %t.after.mlir
// RUN: diff %t.before.mlir %t.after.mlir
// Each split of the input rewrites the output file, which keeps the last.
// RUN: FileCheck %s --check-prefix=FILE < %t.report.txt
// FILE: estimate: int8/f32 = 0.341

// A model built to fall back: a small matmul (16x8 by 8x64), a softmax over
// 64 (four float generics, all named "softmax"), a small matmul back
// (16x64 by 64x8). By hand (x86_64):
//   qcast x       128 el:  128/0.25 + 2*(512 + 128)              =   1792
//   scores (i8)   8192 MACs, weight 512 + 64 scales, act 128+1024:
//                 8192 + 2*(512 + 4*64 + 1152)                     =  12032
//                 f32: 8192/0.25 + 2*(4*512 + 4*1152)             =  46080
//   dcast scores  1024 el (i32 -> f32): 4096 + 2*(4096 + 4096)    =  20480
//   softmax max   1024 it., act 1024+16:  4096 + 2*4*1040          =  12416
//   softmax exp   1024 it., act 1024+16+1024: 4096 + 2*4*2064      =  20608
//   softmax sum   = max                                            =  12416
//   softmax div   = exp                                            =  20608
//   qcast softmax 1024 el: 4096 + 2*(4096 + 1024)                  =  14336
//   context (i8)  8192 MACs, weight 512 + 8 scales, act 1024+128:
//                 8192 + 2*(512 + 32 + 1152)                       =  11584
//                 f32: 32768 + 2*(2048 + 4608)                     =  46080
//   dcast context 128 el: 512 + 2*(512 + 512)                      =   2560
// int8 = 128832, f32 = 46080 + 66048 + 46080 = 158208, ratio 0.8143.
// MACs: 8192 + 8192 + 4*1024 = 20480, 4096 of them float (20.0%).
// The costliest name is "softmax": 66048 + its qcast 14336 = 80384 (62.4%).
// aarch64 (f32 throughput 0.125; i8 kernels unchanged): scores and context
// f32 = 65536 + 13312 = 78848 each; softmax max 8192 + 8320 = 16512, exp
// 8192 + 16512 = 24704, sum 16512, div 24704 (82432); the quantize and
// dequantize steps run at the f32 throughput too: 1024 + 1280 = 2304,
// 8192 + 16384 = 24576, 8192 + 10240 = 18432, 1024 + 2048 = 3072;
// int8 = 2304 + 12032 + 24576 + 82432 + 18432 + 11584 + 3072 = 154432;
// f32 = 2*78848 + 82432 = 240128; ratio 0.6431: below 0.7 on this table.

// CHECK-LABEL: qopt-report-perf: target x86_64
// CHECK-NEXT: estimate: int8/f32 = 0.814 (int8 128832, f32 158208); threshold 0.7: WARNING
// CHECK-NEXT: MACs: 20480 total, 4096 in float ops (20.0%)
// CHECK-NEXT: float ops (fallbacks): 1
// CHECK-NEXT: softmax {{ *}}linalg.generic x4  macs 4096 (20.0%), cost 66048 (51.3% of int8): no integer kernel for this op
// CHECK-NEXT: quantize/dequantize steps: 4
// CHECK-NEXT: x {{ *}}quant.qcast {{ *}}float -> i8; 128 elements, cost 1792
// CHECK-NEXT: scores {{ *}}quant.dcast {{ *}}i32 -> float; 1024 elements, cost 20480
// CHECK-NEXT: softmax {{ *}}quant.qcast {{ *}}float -> i8; 1024 elements, cost 14336
// CHECK-NEXT: context {{ *}}quant.dcast {{ *}}i32 -> float; 128 elements, cost 2560
// CHECK-NEXT: requantize steps that did not fold: 0
// CHECK-NEXT: zero-point corrections not folded: 0
// CHECK-NEXT: activations not fused: 0
// CHECK: costliest in int8:
// CHECK-NEXT: 1. softmax {{ *}}cost 80384 (62.4% of int8)
// CHECK: warning: qopt-report-perf: int8 is estimated at 0.81 of f32 time (above 0.70: int8 less than 1.43x faster); costliest: 'softmax' (float, 62% of int8 time)
// ARM-LABEL: qopt-report-perf: target aarch64
// ARM-NEXT: estimate: int8/f32 = 0.643 (int8 154432, f32 240128); threshold 0.7: ok
// HIGH-LABEL: qopt-report-perf: target x86_64
// HIGH-NEXT: estimate: int8/f32 = 0.814 (int8 128832, f32 158208); threshold 2: ok
// HIGH-NOT: warning

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0, 0)>
func.func @attn(%x: tensor<16x8xf32> {qopt.name = "x"}) -> tensor<16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %xs = qopt.stats %x min [-1.0] max [1.0] : tensor<16x8xf32>
  %w1 = arith.constant dense<0.25> : tensor<8x64xf32>
  %e1 = tensor.empty() : tensor<16x64xf32>
  %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %s = linalg.matmul ins(%xs, %w1 : tensor<16x8xf32>, tensor<8x64xf32>) outs(%z1 : tensor<16x64xf32>) -> tensor<16x64xf32> loc("scores")
  %er = tensor.empty() : tensor<16x1xf32>
  %mi = linalg.fill ins(%ninf : f32) outs(%er : tensor<16x1xf32>) -> tensor<16x1xf32>
  %mx = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%s : tensor<16x64xf32>) outs(%mi : tensor<16x1xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %o, %a : f32
    linalg.yield %m : f32
  } -> tensor<16x1xf32> loc("softmax")
  %ex = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%s, %mx : tensor<16x64xf32>, tensor<16x1xf32>) outs(%e1 : tensor<16x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  } -> tensor<16x64xf32> loc("softmax")
  %si = linalg.fill ins(%zero : f32) outs(%er : tensor<16x1xf32>) -> tensor<16x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]} ins(%ex : tensor<16x64xf32>) outs(%si : tensor<16x1xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.addf %o, %a : f32
    linalg.yield %m : f32
  } -> tensor<16x1xf32> loc("softmax")
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%ex, %sum : tensor<16x64xf32>, tensor<16x1xf32>) outs(%e1 : tensor<16x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.divf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<16x64xf32> loc("softmax")
  %ps = qopt.stats %p min [0.0] max [1.0] : tensor<16x64xf32>
  %w2 = arith.constant dense<0.125> : tensor<64x8xf32>
  %e2 = tensor.empty() : tensor<16x8xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<16x8xf32>) -> tensor<16x8xf32>
  %c = linalg.matmul ins(%ps, %w2 : tensor<16x64xf32>, tensor<64x8xf32>) outs(%z2 : tensor<16x8xf32>) -> tensor<16x8xf32> loc("context")
  return %c : tensor<16x8xf32>
}

// -----

// A model that should not fall back: a 3x3 NHWC convolution (1x10x10x8 ->
// 1x8x8x16) with bias and ReLU, flattened into a 16x16 matmul; everything
// becomes integer kernels, the bias and the zero points go into the
// accumulators, the ReLU into the requantize. By hand (x86_64):
//   qcast image   800 el: 800/0.25 + 2*(3200 + 800)                =  11200
//   conv (i8)     64*16*72 = 73728 MACs, weight 1152 + 16 scales,
//                 act 800 + 1024: 73728 + 2*(1152 + 64 + 1824)     =  79808
//                 im2col (qopt-cpu-gemm: input map is not (m, k)):
//                 64x72 = 4608 el, written and read: 2*(2*4608)    =  18432
//                 f32: 294912 + 2*(4608 + 7296) + 2*(4*9216)       = 392448
//   requantize    1024 el: 1024 + 2*(4096 + 1024)                  =  11264
//   fc (i8)       64*16*16 = 16384 MACs, weight 256 + 16 scales,
//                 act 1024 + 1024: 16384 + 2*(256 + 64 + 2048)     =  21120
//                 f32: 65536 + 2*(1024 + 8192)                     =  83968
//   dcast fc      1024 el (i32): 4096 + 2*(4096 + 4096)            =  20480
//   (the quantize of the image stays out of the im2col copy:
//   qopt-cpu-fuse-elementwise does not fuse what it would recompute)
// int8 = 162304, f32 = 476416, ratio 0.3407: no warning. (The table's
// verdict; measured on this project's machine this tiny model's int8
// program is slower than its f32 one: docs/perf-report.md.)
// aarch64: f32 = 73728/0.125 + 23808 + 73728 + 16384/0.125 + 18432
//        = 687360 + 149504 = 836864; int8: the qcast 6400 + 8000 = 14400
//        and the dcast 8192 + 16384 = 24576 at the f32 throughput, the
//        rest unchanged: 169600; ratio 0.2027.

// CHECK-LABEL: qopt-report-perf: target x86_64
// CHECK-NEXT: estimate: int8/f32 = 0.341 (int8 162304, f32 476416); threshold 0.7: ok
// CHECK-NEXT: MACs: 90112 total, 0 in float ops (0.0%)
// CHECK-NEXT: float ops (fallbacks): 0
// CHECK: requantize steps that did not fold: 0
// CHECK-NEXT: zero-point corrections not folded: 0
// CHECK-NEXT: activations not fused: 0
// CHECK-NEXT: layout
// CHECK-NEXT: conv {{ *}}im2col {{ *}}activation copied into a 64x72 matrix by qopt-cpu-gemm; 4608 elements, cost 18432
// CHECK-NEXT: conv {{ *}}pack {{ *}}weight (K=72, N=16) packed at compile time into 1 blocks of 16 columns (no run-time cost); 1152 elements, cost 0
// CHECK-NEXT: fc {{ *}}pack {{ *}}weight (K=16, N=16) packed
// CHECK-NEXT: costliest in int8:
// CHECK-NEXT: 1. conv {{ *}}cost 98240 (60.5% of int8)
// CHECK-NEXT: 2. fc {{ *}}cost 41600 (25.6% of int8)
// CHECK-NEXT: 3. conv.bias {{ *}}cost 11264
// CHECK-NOT: warning
// ARM-LABEL: qopt-report-perf: target aarch64
// ARM-NEXT: estimate: int8/f32 = 0.203 (int8 169600, f32 836864); threshold 0.7: ok
// ARM: conv {{ *}}pack {{ *}}weight (K=72, N=16) packed at compile time into 1 blocks of 16 columns (no run-time cost); 1152 elements, cost 0
// HIGH-LABEL: qopt-report-perf: target x86_64
// HIGH: costliest in int8:
// HIGH-NEXT: 1. conv {{ *}}cost 98240
// HIGH-NOT: 2.

#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch4 = affine_map<(d0, d1, d2, d3) -> (d3)>
func.func @convnet(%x: tensor<1x10x10x8xf32> {qopt.name = "image"}) -> tensor<64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %xs = qopt.stats %x min [0.0] max [1.0] : tensor<1x10x10x8xf32>
  %f = arith.constant dense<0.25> : tensor<3x3x8x16xf32>
  %z = arith.constant dense<0.0> : tensor<1x8x8x16xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%xs, %f : tensor<1x10x10x8xf32>, tensor<3x3x8x16xf32>) outs(%z : tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32> loc("conv")
  %b = arith.constant dense<0.5> : tensor<16xf32>
  %e = tensor.empty() : tensor<1x8x8x16xf32>
  %cb = linalg.generic {indexing_maps = [#id4, #ch4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %b : tensor<1x8x8x16xf32>, tensor<16xf32>) outs(%e : tensor<1x8x8x16xf32>) {
  ^bb0(%a: f32, %bb: f32, %o: f32):
    %s = arith.addf %a, %bb : f32
    linalg.yield %s : f32
  } -> tensor<1x8x8x16xf32> loc("conv.bias")
  %cbs = qopt.stats %cb min [-6.0] max [6.0] : tensor<1x8x8x16xf32>
  %r = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%cbs : tensor<1x8x8x16xf32>) outs(%e : tensor<1x8x8x16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x8x8x16xf32> loc("relu")
  %rs = qopt.stats %r min [0.0] max [6.0] : tensor<1x8x8x16xf32>
  %flat = tensor.collapse_shape %rs [[0, 1, 2], [3]] : tensor<1x8x8x16xf32> into tensor<64x16xf32> loc("flatten")
  %w = arith.constant dense<0.125> : tensor<16x16xf32>
  %e2 = tensor.empty() : tensor<64x16xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<64x16xf32>) -> tensor<64x16xf32>
  %y = linalg.matmul ins(%flat, %w : tensor<64x16xf32>, tensor<16x16xf32>) outs(%z2 : tensor<64x16xf32>) -> tensor<64x16xf32> loc("fc")
  %ys = qopt.stats %y min [-10.0] max [10.0] : tensor<64x16xf32>
  return %ys : tensor<64x16xf32>
}
