//===- QOptAttrs.td - qopt attributes ----------------------*- tablegen -*-===//
//
// Attributes of the qopt dialect: the precision chosen for an op.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTATTRS_TD
#define QOPT_DIALECT_QOPT_IR_QOPTATTRS_TD

include "qopt/Dialect/QOpt/IR/QOptDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def QOpt_GranularityPerTensor : I32EnumAttrCase<"PerTensor", 0, "per_tensor">;
def QOpt_GranularityPerChannel : I32EnumAttrCase<"PerChannel", 1, "per_channel">;
def QOpt_GranularityPerGroup : I32EnumAttrCase<"PerGroup", 2, "per_group">;

def QOpt_Granularity : I32EnumAttr<"Granularity",
    "granularity of a weight's quantization parameters",
    [QOpt_GranularityPerTensor, QOpt_GranularityPerChannel,
     QOpt_GranularityPerGroup]> {
  let cppNamespace = "::mlir::qopt";
  let genSpecializedAttr = 0;
}

def QOpt_PrecisionAttr : AttrDef<QOpt_Dialect, "Precision"> {
  let mnemonic = "precision";
  let summary = "precision chosen for an op";
  let description = [{
    The element types an op computes with: its activations and, for ops with
    weights, its weights and how the weight's quantization parameters are
    grouped. Integer element types mean quantized values of that width (`i8`
    signed, `ui8` unsigned); float types mean the op stays in float.

    ```mlir
    #qopt.precision<act = i8, weight = i8, per_channel>   // static int8
    #qopt.precision<act = i8, weight = i4, per_group = 32>
    #qopt.precision<act = f32, weight = i4, per_group = 128> // weight-only
    #qopt.precision<act = bf16, weight = bf16>           // keep in bf16
    #qopt.precision<act = i8>                            // an op without weights
    ```

    Integer element types have 2 to 16 bits; float element types are `f16`,
    `bf16`, `f32`, `f8E4M3FN` and `f8E5M2`. The granularity is written only
    for integer weights and defaults to `per_channel`; `per_group = N` needs a
    positive group size. Integer activations need integer weights (float
    weights with integer activations have no kernel).
  }];
  let parameters = (ins
    "::mlir::Type":$activation,
    OptionalParameter<"::mlir::Type">:$weight,
    DefaultValuedParameter<"::mlir::qopt::Granularity",
                           "::mlir::qopt::Granularity::PerTensor">:$granularity,
    DefaultValuedParameter<"int64_t", "0">:$groupSize);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// True when the op's weights (if any) are quantized integers.
    bool hasIntegerWeights() const {
      return getWeight() && ::llvm::isa<::mlir::IntegerType>(getWeight());
    }
    /// True when the op's activations are quantized integers.
    bool hasIntegerActivations() const {
      return ::llvm::isa<::mlir::IntegerType>(getActivation());
    }
  }];
}

#endif // QOPT_DIALECT_QOPT_IR_QOPTATTRS_TD
