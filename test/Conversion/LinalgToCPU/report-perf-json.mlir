// qopt-report-perf's JSON format: the field names docs/perf-report.md
// promises, with the values computed by hand for this model in
// report-perf.mlir (the fallback model: a softmax between two small
// matmuls, x86_64 table): int8 128832, f32 158208, ratio 0.8143; 20480
// MACs of which 4096 (0.2) in the four float ops named "softmax".
//
// RUN: qopt %s --qopt-legalize --qopt-quantize-kernels --qopt-fold-requant --qopt-report-perf="format=json output=%t.json" -o /dev/null
// RUN: FileCheck %s < %t.json
// The same report from inside qopt-quantize (report-perf=FILE runs it
// between qopt-fold-requant and qopt-lower-quant, which still runs after).
// RUN: qopt %s --qopt-quantize="report-perf=%t.pipeline.json report-perf-format=json" -o %t.quantized.mlir
// RUN: FileCheck %s < %t.pipeline.json
// RUN: FileCheck %s --check-prefix=LOWERED < %t.quantized.mlir
// LOWERED-NOT: quant.uniform
// LOWERED: func.func @attn
// Doubles are printed with 17 significant digits (0.7 as 0.69999999999999996).
// The JSON is well formed (Python's parser reads it back).
// RUN: /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sorted(d))" %t.json | FileCheck %s --check-prefix=KEYS
// KEYS: ['activations', 'conversions', 'f32_cost', 'float_mac_share', 'float_macs', 'float_ops', 'int8_cost', 'layout', 'ratio', 'requantizes', 'target', 'threshold', 'top', 'total_macs', 'warning', 'zero_points']

// CHECK: "target": "x86_64",
// CHECK-NEXT: "int8_cost": 128832,
// CHECK-NEXT: "f32_cost": 158208,
// CHECK-NEXT: "ratio": 0.8143{{[0-9]*}},
// CHECK-NEXT: "threshold": {{0\.7|0\.6999+[0-9]*}},
// CHECK-NEXT: "warning": true,
// CHECK-NEXT: "total_macs": 20480,
// CHECK-NEXT: "float_macs": 4096,
// CHECK-NEXT: "float_mac_share": 0.2{{0*[0-9]?}},
// CHECK-NEXT: "float_ops": [
// CHECK-NEXT: {
// CHECK-NEXT: "name": "softmax",
// CHECK-NEXT: "op": "linalg.generic",
// CHECK-NEXT: "count": 4,
// CHECK-NEXT: "macs": 4096,
// CHECK-NEXT: "mac_share": 0.2{{0*[0-9]?}},
// CHECK-NEXT: "cost": 66048,
// CHECK-NEXT: "detail": "no integer kernel for this op"
// CHECK: "conversions": [
// CHECK-NEXT: {
// CHECK-NEXT: "name": "x",
// CHECK-NEXT: "op": "quant.qcast",
// CHECK-NEXT: "detail": "float -> i8",
// CHECK-NEXT: "elements": 128,
// CHECK-NEXT: "macs": 0,
// CHECK-NEXT: "cost": 1792
// CHECK: "requantizes": [],
// CHECK-NEXT: "zero_points": [],
// CHECK-NEXT: "activations": [],
// CHECK-NEXT: "layout": [
// CHECK-NEXT: {
// CHECK-NEXT: "name": "scores",
// CHECK-NEXT: "op": "pack",
// CHECK: "top": [
// CHECK-NEXT: {
// CHECK-NEXT: "name": "softmax",
// CHECK-NEXT: "cost": 80384,
// CHECK-NEXT: "share": 0.6239{{[0-9]*}}

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
