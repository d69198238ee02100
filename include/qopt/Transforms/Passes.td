//===- Passes.td - qopt pass definitions -------------------*- tablegen -*-===//
//
// Every qopt pass, with its options and statistics. Reference docs are
// generated from this file (target qopt-doc).
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TRANSFORMS_PASSES_TD
#define QOPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ImportCalibration : Pass<"qopt-import-calibration", "::mlir::ModuleOp"> {
  let summary = "Attach calibration statistics from a file to the tensors it names";
  let description = [{
    Reads a calibration file written by qopt or by another tool and inserts a
    `qopt.stats` op on every value the file names. Supported formats (see
    docs/calibration-formats.md): qopt JSON, TensorRT calibration caches, ONNX
    Runtime calibration tables (JSON and cache), AIMET encodings and TPU-MLIR
    calibration tables. `format=auto` recognises the format from the content
    and says which it chose in a remark.

    Names: an op result is named by its location (`loc("conv1")`, or the first
    name inside a fused or call-site location); an op with several results
    names them `name:0`, `name:1`, ... unless its fused location carries one
    name per result. A function argument is named by its `qopt.name` argument
    attribute, else by its location. With `match=suffix`, a file entry also
    matches a name that ends with it after a `/`, `.` or `:` separator (or the
    other way round), when that match is unique.

    ```mlir
    // Before (file: {"qopt_calibration": 1, "tensors": {"h": {"min": -1, "max": 2.5}}})
    %h = linalg.matmul ins(%x, %w : ...) outs(%z : ...) -> tensor<1x4xf32> loc("h")
    // After
    %h = linalg.matmul ins(%x, %w : ...) outs(%z : ...) -> tensor<1x4xf32> loc("h")
    %0 = qopt.stats %h min [-1.0] max [2.5] : tensor<1x4xf32> loc("h")
    ```

    A remark summarises every run: how many statistics were imported, from
    which format, and how many file entries matched no value and how many
    named float tensors (constants aside) were left without statistics. The
    latter two are also listed in one warning each (first five names), and
    `strict=true` makes either an error. The counts are pass statistics as
    well (`--mlir-pass-statistics`), which only show in an MLIR built with
    statistics enabled (Debian's release build compiles them out). Any error
    leaves the IR unchanged.
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect"];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"",
           "Calibration file to read">,
    Option<"format", "format", "std::string", /*default=*/"\"auto\"",
           "File format: auto, qopt, tensorrt, onnxruntime, aimet or tpu-mlir">,
    Option<"match", "match", "std::string", /*default=*/"\"exact\"",
           "How file names find IR names: exact or suffix">,
    Option<"strict", "strict", "bool", /*default=*/"false",
           "Make unmatched entries and tensors without statistics errors">,
    Option<"merge", "merge", "bool", /*default=*/"false",
           "Widen existing statistics with the file's ranges instead of "
           "replacing them">,
  ];
  let statistics = [
    Statistic<"numAnnotated", "annotated-tensors",
              "Tensors that received statistics">,
    Statistic<"numUnmatchedEntries", "unmatched-entries",
              "File entries that match no tensor">,
    Statistic<"numMissing", "tensors-without-stats",
              "Named float tensors left without statistics">,
  ];
}

def ExportCalibration : Pass<"qopt-export-calibration", "::mlir::ModuleOp"> {
  let summary = "Write the statistics in the IR to a calibration file";
  let description = [{
    Collects every `qopt.stats` op, names it as qopt-import-calibration does,
    and writes the table in qopt's JSON format or as a TensorRT calibration
    cache (symmetric: amax = max(|min|, |max|), scale = amax / 127 as float32
    bits; per-axis statistics have no place in a TensorRT cache and are left
    out with a warning that names them). The IR is not changed. Importing the qopt JSON output gives back
    identical statistics.
  }];
  let options = [
    Option<"file", "file", "std::string", /*default=*/"\"-\"",
           "Output file ('-' for standard output)">,
    Option<"format", "format", "std::string", /*default=*/"\"qopt\"",
           "File format: qopt or tensorrt">,
  ];
}

def AssignPrecision : Pass<"qopt-assign-precision", "::mlir::ModuleOp"> {
  let summary = "Choose a precision per op under a size, bits, cost or "
                "accuracy budget";
  let description = [{
    Decides, for every op qopt-legalize quantizes (matmuls, convolutions,
    elementwise arithmetic, sum pooling, concat), one precision among those
    the target runs natively (`target=`: x86_64 offers i8, w4a8 (int4
    weights, int8 activations), bf16 and f32; aarch64 i8, w4a8, f16 and f32;
    sm_90 i8, f16, bf16 and f32), and writes it as `#qopt.precision` under
    the `qopt.precision` attribute, which qopt-legalize honours.

    Sensitivity (`sensitivity=estimate`): the quantization noise of each op
    in each precision, from its actual weights (quantized per channel or
    per group as qopt-legalize will, or rounded to the float format) and its
    inputs' calibration statistics (histograms when present), as noise
    power relative to signal at the op's output; the model's output noise is
    estimated as the sum over ops (SQNR in dB). Cost per op and precision:
    weight bytes, activation bytes moved and MACs weighted by the target's
    relative throughput. `sensitivity=measure` instead runs the model
    through qopt-quantize, qopt-lower-cpu and qopt-run on the calibration
    inputs given by `inputs=` (one .npy per call), one op and candidate at a
    time with the rest in f32, and uses the measured output SQNR.

    Budgets: `size:BYTES` (weight bytes), `avg-bits:B` (weight bits averaged
    over all weight elements), `cost:X` (times the all-int8 cost) minimise
    the noise; `sqnr:DB` meets the SQNR at the least cost. The choice is a
    multiple-choice knapsack solved exactly by dynamic programming over
    Pareto frontiers (docs/mixed-precision.md). An infeasible budget is an
    error that names the smallest feasible one.

    `table=PATH` pins ops (lines `op_name precision`, `#` comments);
    `export=PATH` writes the chosen table in the same format;
    `report=PATH` (`-` for standard error) writes, per op, the candidates
    with their estimated SQNR, the choice, its cost, and the totals against
    the budget.

    ```mlir
    // Before
    %y = linalg.matmul ins(%x, %w : ...) outs(%z : ...) -> tensor<1x32xf32> loc("fc1")
    // After (budget=size:... that leaves room for int4 here)
    %y = linalg.matmul {qopt.precision = #qopt.precision<act = i8, weight = i4, per_group = 32>}
        ins(%x, %w : ...) outs(%z : ...) -> tensor<1x32xf32> loc("fc1")
    ```
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect"];
  let options = [
    Option<"target", "target", "std::string", "\"x86_64\"",
           "Target table: x86_64, aarch64 or sm_90">,
    Option<"budget", "budget", "std::string", "\"\"",
           "size:BYTES, avg-bits:B, cost:X (relative to all-int8) or sqnr:DB">,
    Option<"sensitivity", "sensitivity", "std::string", "\"estimate\"",
           "How op sensitivity is obtained: estimate or measure">,
    Option<"inputs", "inputs", "std::string", "\"\"",
           "Calibration inputs (.npy, comma-separated) for "
           "sensitivity=measure">,
    Option<"table", "table", "std::string", "\"\"",
           "Pin table to read (lines `op_name precision`)">,
    Option<"exportFile", "export", "std::string", "\"\"",
           "Write the chosen precisions as a pin table to this file">,
    Option<"reportFile", "report", "std::string", "\"\"",
           "Write the report to this file ('-' for standard error)">,
    Option<"groupSize", "group-size", "unsigned", "32",
           "Group size of int4 matmul weights along the reduction dimension "
           "(0: per channel)">,
  ];
}

def Legalize : Pass<"qopt-legalize", "::mlir::ModuleOp"> {
  let summary = "Quantize a calibrated float model into QDQ form";
  let description = [{
    Reads the `qopt.stats` of a float model and writes its quantization in
    QDQ form (docs/qdq-form.md): every activation that feeds an op with an
    integer kernel (matmul, batch_matmul, conv_2d_nhwc_hwcf, conv_2d_nchw_fchw,
    depthwise_conv_2d_nhwc_hwc, elementwise add/sub/mul, pooling, concat) is
    quantized with `quant.qcast` / `quant.dcast`; constant weights are
    quantized at compile time (per output channel by default, symmetric,
    narrow range); biases become i32 with scale `s_input * s_weight`.

    ```mlir
    // Before
    %x1 = qopt.stats %x min [-1.0] max [3.0] : tensor<1x4xf32>
    %y = linalg.matmul ins(%x1, %w : tensor<1x4xf32>, tensor<4x2xf32>) ...
    // After (asymmetric i8: scale 4/255, zero point -64)
    %q = quant.qcast %x1 : tensor<1x4xf32> to tensor<1x4x!quant.uniform<i8:f32, 0.015686275:-64>>
    %d = quant.dcast %q : ... to tensor<1x4xf32>
    %wi = arith.constant dense<...> : tensor<4x2xi8>
    %wq = quant.scast %wi : tensor<4x2xi8> to tensor<4x2x!quant.uniform<i8<-127:127>:f32:1, {...}>>
    %wd = quant.dcast %wq : ... to tensor<4x2xf32>
    %y = linalg.matmul ins(%d, %wd : ...) ...
    ```

    Ops that keep values (reshape, transpose, slices, max pooling) share
    their input's parameters; concat gets one common scale; ReLU, ReLU6 and
    clamp narrow the range of the value they produce. Ops with no integer
    kernel stay float. An op's `#qopt.precision` attribute (under the
    `qopt.precision` attribute name) overrides the options for that op; a
    float activation type keeps the op in float.

    A value that needs statistics and has none is an error naming it, unless
    `allow-missing-stats=true`, which keeps its consumer in float and warns.
    The `qopt.stats` ops are consumed: none is left after the pass.

    `mode=dynamic` needs no statistics (docs/dynamic-quantization.md): each
    matmul, batch_matmul or convolution with a constant weight gets its
    weight quantized now (s8 symmetric, or `weight-type=u8` asymmetric; per
    channel or `weights=per-tensor`) and its activation quantized by the
    generated code at run time with `qopt.dynamic_quantize` (ONNX Runtime's
    DynamicQuantizeLinear, per tensor, or per row with
    `dynamic-granularity=row`), then an i8 contraction with an i32
    accumulator and the float32 scaling ONNX Runtime applies. Ops it cannot
    rewrite stay float with a remark (statistic `float-ops`).

    ```mlir
    // After qopt-legalize{mode=dynamic} on a matmul with a constant weight
    %q, %s, %z = qopt.dynamic_quantize %x
        : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<f32>, tensor<i8>
    %qs = linalg.generic ... { arith.xori %v, -128 } // u8 -> i8
    %acc = linalg.matmul ins(%qs, %w : tensor<4x64xi8>, tensor<64x16xi8>)
        outs(%zero : tensor<4x16xi32>) -> tensor<4x16xi32>
    %y = linalg.generic ins(%acc, %z, %colsum, %s, %ws ...) {
      // f32(acc + (128 - z) * colsum) * (s * ws)
    } -> tensor<4x16xf32>
    ```
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::quant::QuantDialect",
                           "::mlir::arith::ArithDialect"];
  let options = [
    Option<"mode", "mode", "std::string", "\"static\"",
           "Quantization mode: static (activation scales from calibration), "
           "dynamic (activation scales computed at run time) or weight-only "
           "(quantized weights, float activations)">,
    Option<"activations", "activations", "std::string", "\"asymmetric\"",
           "Activation scheme: asymmetric or symmetric">,
    Option<"activationType", "activation-type", "std::string", "\"i8\"",
           "Activation storage type: i8, u8 or i16">,
    Option<"weights", "weights", "std::string", "\"per-channel\"",
           "Weight granularity: per-channel, per-tensor or per-group">,
    Option<"weightBits", "weight-bits", "unsigned", "8",
           "Weight bits: 8 or 4">,
    Option<"groupSize", "group-size", "unsigned", "0",
           "Group size along the reduction dimension for per-group weights "
           "(mode=weight-only: 0 means one group per output column)">,
    Option<"weightZeroPoint", "weight-zero-point", "bool", "false",
           "mode=weight-only: asymmetric groups with a stored zero point "
           "(false: symmetric, zero point 2^(bits-1))">,
    Option<"weightClip", "weight-clip", "std::string", "\"none\"",
           "mode=weight-only: none (each group's min/max) or search (per "
           "group, the clipping ratio with the smallest quantization error)">,
    Option<"activationQuant", "activation-quant", "std::string", "\"none\"",
           "mode=weight-only: none (float activations) or int8-block "
           "(activations quantized to int8 per row and group at run time, "
           "ONNX Runtime's MatMulNBits accuracy_level 4, bit-exact; needs "
           "weight-bits=4 and group-size 64 or 128)">,
    Option<"computeType", "compute-type", "std::string", "\"f32\"",
           "mode=weight-only arithmetic: f32, or bf16 (activations and "
           "dequantized weights rounded to bf16, products summed in f32 as "
           "AVX512-BF16 vdpbf16ps; needs a target with avx512bf16)">,
    Option<"calibrator", "calibrator", "std::string", "\"minmax\"",
           "Range from statistics: minmax, percentile, entropy or mse">,
    Option<"percentile", "percentile", "double", "99.99",
           "Percentile kept by calibrator=percentile">,
    Option<"allowMissingStats", "allow-missing-stats", "bool", "false",
           "Keep ops whose inputs lack statistics in float (with a warning) "
           "instead of failing">,
    Option<"weightType", "weight-type", "std::string", "\"s8\"",
           "mode=dynamic weight storage: s8 (symmetric) or u8 (asymmetric)">,
    Option<"dynamicGranularity", "dynamic-granularity", "std::string",
           "\"tensor\"",
           "mode=dynamic activation scales: tensor (one per tensor, as ONNX "
           "Runtime) or row (one per row, per token)">,
  ];
  let statistics = [
    Statistic<"numQuantizedOps", "quantized-ops",
              "Ops given quantized inputs">,
    Statistic<"numFloatOps", "float-ops", "Ops kept in float">,
    Statistic<"numWeights", "quantized-weights", "Constants quantized">,
  ];
}

def QuantizeKernels : Pass<"qopt-quantize-kernels", "::mlir::ModuleOp"> {
  let summary = "Turn QDQ patterns into integer kernels";
  let description = [{
    Rewrites QDQ form (docs/qdq-form.md) into the integer program that is
    deployed: a matmul or convolution whose inputs are `quant.dcast` values
    becomes a `linalg.generic` on the storage integers with i32 accumulation
    (typed `!quant.uniform<i32:f32(:axis), s_in*s_w>`), the bias is added in
    i32, and a following `quant.qcast` becomes `qopt.requantize` from the
    accumulator type to the output type (a ReLU or clamp in between becomes
    saturation). Elementwise add/sub/mul, pooling and scale-keeping ops
    (reshape, transpose, concat, slices) on quantized values become their
    integer forms. Anything not matched stays as it was, so the result is
    always a correct program.

    ```mlir
    // Before
    %a = quant.dcast %aq : tensor<1x4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<1x4xf32>
    %w = quant.dcast %wq : tensor<4x2x!quant.uniform<i8<-127:127>:f32:1, {0.01,0.02}>> to tensor<4x2xf32>
    %y = linalg.matmul ins(%a, %w : ...) outs(%z : tensor<1x2xf32>) -> tensor<1x2xf32>
    %yq = quant.qcast %y : tensor<1x2xf32> to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
    // After
    %ai = quant.scast %aq : ... to tensor<1x4xi8>
    %wi = quant.scast %wq : ... to tensor<4x2xi8>
    %acc = linalg.generic ... ins(%ai, %wi) outs(%zero : tensor<1x2xi32>) {
      // (sext a - (-3)) * sext w, accumulated in i32
    }
    %accq = quant.scast %acc : tensor<1x2xi32> to tensor<1x2x!quant.uniform<i32:f32:1, {0.001,0.002}>>
    %yq = qopt.requantize %accq : ... to tensor<1x2x!quant.uniform<i8:f32, 0.05:2>>
    ```
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::quant::QuantDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numKernels", "integer-kernels",
              "Ops rewritten to integer kernels">,
  ];
}

def FoldRequant : Pass<"qopt-fold-requant", "::mlir::ModuleOp"> {
  let summary = "Leave at most one requantization per edge and fold zero points";
  let description = [{
    Cleans up the integer form that qopt-quantize-kernels produces:

    * `quant.qcast(quant.dcast(x : A)) : B` becomes `qopt.requantize x : A to
      B`, or `x` when `A == B` (an integer program instead of the float
      simulation; the two may differ by at most 1 LSB).
    * `requantize(requantize(x))` becomes one requantize when the inner step
      is exact for every input (see qopt.requantize); a requantize to its own
      type disappears. These folds never change a result bit. With
      `fold-inexact-chains=true` every chain of per-tensor or per-axis
      requantizes is merged, dropping the intermediate rounding: a different
      program, counted separately.
    * A ReLU, ReLU6 or clamp between a dequantize and a quantize becomes the
      requantize's output range (a narrower `[qmin, qmax]`), removing the op.
    * A per-tensor requantize whose value only goes through a scale-keeping
      op (reshape, collapse/expand_shape, extract_slice, transpose) on
      storage integers moves past it, so that it can merge with the next one.
    * Zero points of activations are folded out of matmul/convolution
      kernels with constant weights: `sum((a - za) * w) = sum(a * w) -
      za * sum(w)`, and `-za * sum(w)` per output channel becomes the i32
      initial value of the accumulator, so the inner loop is a plain integer
      dot product. An i32 bias added after the kernel joins that initial
      value too (i32 addition wraps, so the order does not matter).

    ```mlir
    // Before
    %d = quant.dcast %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4xf32>
    %q = quant.qcast %d : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.2:5>>
    // After
    %q = qopt.requantize %x : tensor<4x!quant.uniform<i8:f32, 0.1:-3>> to tensor<4x!quant.uniform<i8:f32, 0.2:5>>
    ```
  }];
  let dependentDialects = ["::mlir::qopt::QOptDialect",
                           "::mlir::quant::QuantDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"foldInexactChains", "fold-inexact-chains", "bool", "false",
           "Merge requantize chains even when the intermediate step rounds "
           "(drops that rounding)">,
    Option<"report", "report", "bool", "false",
           "Emit a remark with the counts (the pass statistics, which "
           "Debian's release build of MLIR compiles out)">,
  ];
  let statistics = [
    Statistic<"numCreated", "requantizes-created",
              "dcast/qcast pairs turned into requantize">,
    Statistic<"numRemoved", "requantizes-removed",
              "Requantizes to their own type (and same-type pairs) removed">,
    Statistic<"numMerged", "requantizes-merged",
              "Exact requantize chains merged">,
    Statistic<"numInexactMerged", "inexact-chains-merged",
              "Rounding requantize chains merged (fold-inexact-chains)">,
    Statistic<"numMoved", "requantizes-moved",
              "Requantizes moved past scale-keeping ops">,
    Statistic<"numZeroPointFolds", "zero-points-folded",
              "Activation zero points folded into accumulator constants">,
    Statistic<"numBiasFolds", "biases-folded",
              "i32 bias adds folded into accumulator initial values">,
    Statistic<"numClamps", "clamps-fused",
              "ReLU/clamp ops turned into a requantize's output range">,
  ];
}

def LowerQuant : Pass<"qopt-lower-quant", "::mlir::ModuleOp"> {
  let summary = "Lower quantized ops to integer and float arithmetic, bit-exactly";
  let description = [{
    Replaces `quant.qcast`, `quant.dcast`, `quant.scast` and `qopt.requantize`
    with `linalg.generic` + `arith`/`math` on storage integers, and gives every
    other op its storage types, so that no quantized type remains inside
    function bodies and upstream bufferization and lowering apply.

    * `quant.qcast`: `saturate(roundeven(x / scale) + zp)` in f32: division by
      the scale (not multiplication by its reciprocal), round half to even,
      then the zero point, then saturation to the storage range (narrow
      ranges honoured). NaN saturates to the lower bound. This is ONNX
      Runtime's QuantizeLinear bit for bit. Upstream's `lower-quant-ops`
      truncates and does not saturate (docs/numerics.md).
    * `quant.dcast`: `(q - zp) * scale` in f32.
    * `qopt.requantize`, `requant-mode=fixed-point` (default): TFLite's
      MultiplyByQuantizedMultiplier with a Q31 multiplier and shift per
      channel (lib/Quant), in i32/i64 arithmetic; bit-exact with the scalar
      reference for every int32 input. `requant-mode=float`: ONNX Runtime's
      QLinear* requantization, `saturate(roundeven(f32(x) * m) + zp)` with
      `m = f32(s_in) / f32(s_out)` computed in f32.

    Per tensor, per axis and sub-channel (per group) parameters are
    supported for qcast and dcast; requantize supports per tensor and per
    axis parameters.

    ```mlir
    // Before
    %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:-3>>
    // After
    %q = linalg.generic ... ins(%x : tensor<4xf32>) outs(%e : tensor<4xi8>) {
      // divf 0.5, math.roundeven, addf -3.0, maxnumf -128.0, minnumf 127.0, fptosi
    }
    ```

    Function signatures get storage types too unless `signature=keep`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"requantMode", "requant-mode", "std::string", "\"fixed-point\"",
           "Requantization arithmetic: fixed-point (TFLite) or float (ONNX Runtime)">,
    Option<"signature", "signature", "std::string", "\"storage\"",
           "Function signatures: storage (integers) or keep (quantized types)">,
  ];
}

def FoldBatchNorm : Pass<"qopt-fold-batchnorm", "::mlir::ModuleOp"> {
  let summary = "Fold inference BatchNormalization and per-channel Mul/Add "
                "into the preceding convolution or matmul";
  let description = [{
    Quantization must see the weights that really multiply the activations,
    so an inference BatchNormalization after a convolution or matmul (as
    `qopt-translate --import-onnx` writes it: a `linalg.generic` computing
    `(x - mean) / sqrt(var + eps) * scale + B` with per-channel constants),
    and elementwise Mul, Div, Add, Sub or Neg by per-channel (or scalar)
    constants, are folded into the weights and the bias:

      W'[c, ...] = W[c, ...] * a[c],   y = conv(x, W') + b[c]

    where `y = a[c] * conv(x, W) + b[c]` is the composition of the folded
    ops (the bias add the importer emits after a convolution included). The
    generics are recognised by evaluating their bodies symbolically: every
    operand but the contraction's result must be an f32 constant broadcast
    along the channel dimension (dimension 1), and the body must be affine
    in that result (addf, subf, mulf, divf by a constant, negf, sqrt of a
    constant). Contractions: `linalg.conv_2d_nchw_fchw` (channel = filter
    dimension 0), the importer's generic convolutions (grouped, depthwise,
    1-d, 3-d: loop d1 is the output channel and dimension 0 of the weight,
    body `out + in0 * in1`) and `linalg.matmul` (channel = column of B), with
    a constant weight, a zero-filled init and no other user of their result.

    The resulting bias add carries the location (the ONNX tensor name) of
    the last folded op, so calibration statistics still find it; the names
    of the intermediate tensors disappear with them. The fold is computed
    in double and rounded to f32 once, so results match the unfolded model
    to float rounding, not bit for bit.

    ```mlir
    // Before
    %c = linalg.conv_2d_nchw_fchw ins(%x, %w) outs(%zero)
    %y = linalg.generic ins(%c, %scale, %bias, %mean, %var) {
      // (x - mean) / sqrt(var + eps) * scale + bias
    } loc("bn1")
    // After
    %c = linalg.conv_2d_nchw_fchw ins(%x, %w_folded) outs(%zero)
    %y = linalg.generic ins(%c, %b_folded) { addf } loc("bn1")
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numFolded", "folded-chains",
              "Chains of per-channel affine ops folded into a contraction">,
    Statistic<"numOpsRemoved", "removed-ops",
              "Per-channel affine ops removed">,
  ];
}

def ExposeTensors : Pass<"qopt-expose-tensors", "::mlir::ModuleOp"> {
  let summary = "Return every named tensor of an entry function as an extra "
                "result, for tools that capture them in one call";
  let description = [{
    Appends to the results of one public function every named value
    (docs/naming.md) that is a ranked tensor of a float type (f16, f32, f64)
    or of a per-tensor or per-axis `!quant.uniform` type, in program order,
    and records what each extra result is in the function attribute
    `qopt.exposed`: an array with one dictionary per exposed tensor,

    ```mlir
    func.func @f(...) -> (tensor<1x10xf32>, tensor<1x16xf32>, tensor<1x32xi8>)
        attributes {qopt.exposed = [
          {name = "input", op = "func.arg", result = 1 : i64},
          {name = "relu1", op = "qopt.requantize", result = 2 : i64,
           scale = array<f64: 0.0127>, zero_point = array<i64: -128>}
        ]}
    ```

    `result` is the index of the function result that holds the tensor;
    quantized values are returned as their storage integers (`quant.scast`)
    and carry `scale` and `zero_point` (one entry, or one per channel with
    `axis`), so that `real = scale * (q - zero_point)`. Under the naming
    rule, a name that several values carry means the last float or
    quantized tensor that carries it (the value that replaced the original
    op). Constants and values computed from constants alone (weights,
    biases) are not exposed: they are in the module already.

    Run it on a float model before qopt-lower-cpu, or on a quantized model
    before qopt-lower-quant (the quantize pipeline's `expose-tensors=true`
    does this): the captured quantized values are then those of the
    compiled integer program. qopt-calibrate and qopt-compare use it.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "The function to expose tensors of (empty: the only public "
           "function with a body)">,
  ];
  let statistics = [
    Statistic<"numExposed", "exposed-tensors", "Tensors exposed as results">,
  ];
}

#endif // QOPT_TRANSFORMS_PASSES_TD
