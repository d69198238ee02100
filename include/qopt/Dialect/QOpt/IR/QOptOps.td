//===- QOptOps.td - qopt operations ------------------------*- tablegen -*-===//
//
// Operations of the qopt dialect: calibration statistics on float values and
// requantization between upstream quantized types.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTOPS_TD
#define QOPT_DIALECT_QOPT_IR_QOPTOPS_TD

include "qopt/Dialect/QOpt/IR/QOptDialect.td"
include "qopt/Dialect/QOpt/IR/QOptAttrs.td"
include "mlir/Dialect/Quant/IR/QuantBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def QOpt_StatsOp : QOpt_Op<"stats", [Pure, SameOperandsAndResultType]> {
  let summary = "calibration statistics of a float value";
  let description = [{
    `qopt.stats` returns its operand unchanged and records the statistics that
    calibration observed for it: the range per tensor, or per slice along
    `axis`, and optionally a histogram of the values. Quantization passes read
    it to choose scales and zero points; it never changes a value.

    ```mlir
    // Per tensor.
    %1 = qopt.stats %0 min [-1.0] max [2.5] : tensor<4x3xf32>
    // Per axis: one range per slice of dimension 1.
    %2 = qopt.stats %0 axis 1 min [-1.0, 0.0, -2.0] max [1.0, 0.5, 2.0]
        : tensor<4x3xf32>
    // With a histogram: `counts` bins of equal width over [0.0, 6.0].
    %3 = qopt.stats %0 min [0.0] max [6.0]
        histogram [0.0, 6.0] counts [10, 4, 0, 1] : tensor<4x3xf32>

    // Exact parameters given by the calibration file (AIMET encodings):
    // quantization keeps this scale and zero point instead of deriving them.
    %4 = qopt.stats %0 min [-1.0] max [1.0] scale [0.0078125]
        zero_point [0] bits 8 : tensor<4x3xf32>
    ```

    Without `axis`, `min` and `max` hold one value each. With `axis`, they hold
    one value per index of that dimension. Every value is finite and
    `min <= max`. A histogram is per tensor, its bounds are finite with
    `hist_min <= hist_max`, and its counts are non-negative. Exact parameters
    have one positive finite scale and one zero point per range; `bits` is
    between 2 and 32. Their zero points are on the signed grid
    `[-2^(bits-1), 2^(bits-1) - 1]` (real = scale * (q - zero_point)); a
    tool that writes them for unsigned storage (AIMET) is converted at import.
  }];
  let arguments = (ins
    RankedTensorOf<[AnyFloat]>:$input,
    OptionalAttr<I64Attr>:$axis,
    DenseF64ArrayAttr:$min,
    DenseF64ArrayAttr:$max,
    OptionalAttr<F64Attr>:$hist_min,
    OptionalAttr<F64Attr>:$hist_max,
    OptionalAttr<DenseI64ArrayAttr>:$counts,
    OptionalAttr<DenseF64ArrayAttr>:$scale,
    OptionalAttr<DenseI64ArrayAttr>:$zero_point,
    OptionalAttr<I64Attr>:$bits);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input (`axis` $axis^)? `min` custom<FloatArray>($min)
    `max` custom<FloatArray>($max)
    (`histogram` ` ` `[` $hist_min^ `,` $hist_max `]` `counts` $counts)?
    (`scale` custom<FloatArray>($scale)^ `zero_point` $zero_point)?
    (`bits` $bits^)?
    attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True when the statistics are per slice along `axis`.
    bool isPerAxis() { return getAxis().has_value(); }
    /// True when a histogram is attached.
    bool hasHistogram() { return getCounts().has_value(); }
    /// True when the file fixed the scale and zero point.
    bool hasExactParams() { return getScale().has_value(); }
  }];
}

def QOpt_QuantizedScalarOrTensor :
    quant_ScalarOrTensorOf<quant_QuantizedType>;

def QOpt_RequantizeOp : QOpt_Op<"requantize", [Pure]> {
  let summary = "convert between two quantized types";
  let description = [{
    Converts a value of one uniform quantized type to another with the same
    expressed type: the real value `s_in * (q - zp_in)` is re-expressed as
    `clamp(round(real / s_out) + zp_out, qmin_out, qmax_out)`. Typical uses are
    an i32 accumulator to i8 and i8 to i8 with another scale; either side may
    be per tensor, per axis or sub-channel.

    ```mlir
    %1 = qopt.requantize %0
        : tensor<4x3x!quant.uniform<i32:f32:1, {0.001, 0.002, 0.004}>>
        to tensor<4x3x!quant.uniform<i8:f32, 0.05:-3>>
    ```

    How the arithmetic is carried out (fixed-point multiplier or float scale)
    is chosen when the op is lowered; see docs/numerics.md.

    Folds: a requantize to its own type is the identity. A requantize of a
    requantize becomes one requantize only when the inner step is exact for
    every input (same scale per channel, and its zero-point shift neither
    rounds nor clamps), because any other merge would drop a rounding step
    and change results.
  }];
  let arguments = (ins QOpt_QuantizedScalarOrTensor:$input);
  let results = (outs QOpt_QuantizedScalarOrTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Weight-only quantization
//===----------------------------------------------------------------------===//

def QOpt_MatMulNBitsOp : QOpt_Op<"matmul_nbits",
                                  [Pure, AttrSizedOperandSegments]> {
  let summary = "float matmul with packed 4- or 8-bit per-group weights";
  let description = [{
    `Y[..., m, n] = sum_k A[..., m, k] * W[k, n]` where the weight is stored
    in ONNX Runtime's com.microsoft MatMulNBits layout: `weight` holds, for
    each output column `n` and each group `g` of `group_size` consecutive
    values along K, `group_size * bits / 8` bytes; with 4 bits two values
    share a byte, the lower K index in the low nibble. A stored value `q`
    (unsigned, `[0, 2^bits)`) means

        W[k, n] = (q - zero_point[n, g]) * scales[n, g],  g = k / group_size

    computed in float32 (`q - zero_point` is exact). Without `zero_points`
    the zero point is `2^(bits-1)` (8 for 4 bits, 128 for 8 bits), as in
    MatMulNBits. `zero_points` holds one unsigned value per group in an i8
    (not packed). Activations and the result are float32; K must be a
    multiple of `group_size`, which is even.

    ```mlir
    // K = 64, N = 3, 4-bit, groups of 32: 2 groups of 16 bytes per column.
    %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32
        : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
    ```

    With the `int8_block` unit attribute the op computes MatMulNBits'
    accuracy_level 4 function instead: each row of the input is quantized to
    int8 per group (scale = amax / 127) and multiplied with the 4-bit codes
    in integers, with ONNX Runtime's float32 order of operations
    (docs/numerics.md, section 10); only 4 bits and groups of 64 or 128 are
    supported (the cases the rule was derived for). Only then may an optional
    `bias` (tensor<N x f32>) be given: ONNX Runtime adds it between the
    integer part and the zero-point correction, so it cannot be a separate
    add.

    ```mlir
    %y = qopt.matmul_nbits %a, %w scales %s bias(%b : tensor<8xf32>) bits 4
        group_size 64 int8_block : tensor<2x128xf32>, tensor<8x2x32xi8>,
        tensor<8x2xf32> -> tensor<2x8xf32>
    ```

    `compute bf16` (the attribute `compute_type`, f32 when absent) asks for
    AVX512-BF16 arithmetic: each activation and each dequantized weight
    `(q - zero_point) * scale` is rounded to bf16 (round to nearest even,
    subnormals to zero) and the products are summed in float32 as
    `vdpbf16ps` does, pair by pair along K (docs/numerics.md, section
    "bf16 compute for weight-only"). The CPU lowering refuses it on a target
    without avx512bf16.

    ```mlir
    %y = qopt.matmul_nbits %a, %w scales %s bits 4 group_size 32 compute bf16
        : tensor<1x64xf32>, tensor<3x2x16xi8>, tensor<3x2xf32> -> tensor<1x3xf32>
    ```

    qopt-legalize{mode=weight-only} produces it from matmuls with constant
    weights and the ONNX importer from MatMulNBits nodes; the CPU lowering
    (qopt-cpu-matmul-nbits) dequantizes each block in registers inside the
    GEMM loop. docs/weight-only.md describes the layout and the numerics.
  }];
  let arguments = (ins
    RankedTensorOf<[F32]>:$input,
    RankedTensorOf<[I8]>:$weight,
    RankedTensorOf<[F32]>:$scales,
    Optional<RankedTensorOf<[I8]>>:$zero_points,
    Optional<RankedTensorOf<[F32]>>:$bias,
    I64Attr:$bits,
    I64Attr:$group_size,
    UnitAttr:$int8_block,
    OptionalAttr<TypeAttr>:$compute_type);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $weight `scales` $scales (`zero_points` $zero_points^)?
    (`bias` `(` $bias^ `:` type($bias) `)`)? `bits` $bits
    `group_size` $group_size (`int8_block` $int8_block^)?
    (`compute` $compute_type^)? attr-dict `:`
    type($input) `,` type($weight) `,` type($scales)
    (`,` type($zero_points)^)? `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The reduction size K (the input's last dimension).
    int64_t getK() {
      return getInput().getType().getShape().back();
    }
    /// The number of output columns N.
    int64_t getN() { return getWeight().getType().getDimSize(0); }
    /// The zero point used when `zero_points` is absent: 2^(bits-1).
    int64_t getDefaultZeroPoint() { return int64_t(1) << (getBits() - 1); }
    /// True when the op asks for bf16 arithmetic (`compute bf16`).
    bool isBF16Compute() {
      std::optional<Type> type = getComputeType();
      return type && type->isBF16();
    }
  }];
}

//===----------------------------------------------------------------------===//
// Dynamic quantization
//===----------------------------------------------------------------------===//

def QOpt_DynamicQuantizeOp : QOpt_Op<"dynamic_quantize", [Pure]> {
  let summary = "quantize to u8 with a scale and zero point computed from "
                "the values (ONNX DynamicQuantizeLinear)";
  let description = [{
    Quantizes a float32 tensor to u8 with parameters computed at run time
    from the tensor itself, bit for bit as ONNX Runtime's
    `DynamicQuantizeLinear` (docs/numerics.md, section 9), all in float32:

    ```text
    lo = min(min(x), 0)        hi = max(max(x), 0)
    scale = hi == lo ? 1 : (hi - lo) / 255
    zero_point = roundeven(clamp(0 - lo / scale, 0, 255))
    output = clamp(roundeven(x / scale) + zero_point, 0, 255)
    ```

    The u8 values are held in signless `i8` (their bit pattern), as qopt's
    ONNX importer holds UINT8. The granularity follows from the parameter
    types: rank-0 `scale` and `zero_point` give one pair for the whole tensor
    (ONNX's op); a shape equal to the input's with the last dimension 1 gives
    one pair per row (per token), the minimum and maximum taken along the
    last dimension only.

    ```mlir
    // Per tensor.
    %q, %s, %z = qopt.dynamic_quantize %x
        : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<f32>, tensor<i8>
    // Per row.
    %q, %s, %z = qopt.dynamic_quantize %x
        : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<4x1xf32>, tensor<4x1xi8>
    ```

    qopt-lower-quant lowers it to one min/max reduction (a linalg.generic
    with two results), the parameter arithmetic, and an elementwise
    quantization.
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[I8]>:$output,
                      RankedTensorOf<[F32]>:$scale,
                      RankedTensorOf<[I8]>:$zero_point);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($output) `,` type($scale) `,`
    type($zero_point)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True when there is one scale per row rather than one per tensor.
    bool isPerRow() { return getScale().getType().getRank() != 0; }
  }];
}

#endif // QOPT_DIALECT_QOPT_IR_QOPTOPS_TD
