//===- QOptDialect.td - qopt dialect definition ------------*- tablegen -*-===//
//
// The qopt dialect adds to upstream's `quant` dialect what a quantization
// compiler needs beyond the types: calibration statistics on float values,
// requantization between two quantized types, and the precision chosen for an
// op. Quantized types themselves are always upstream's `!quant.uniform`.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_IR_QOPTDIALECT_TD
#define QOPT_DIALECT_QOPT_IR_QOPTDIALECT_TD

include "mlir/IR/OpBase.td"

def QOpt_Dialect : Dialect {
  let name = "qopt";
  let cppNamespace = "::mlir::qopt";
  let summary = "Quantization statistics, requantization and precision";
  let description = [{
    The `qopt` dialect carries what qopt's quantization passes need and
    upstream MLIR lacks. It defines no quantized types: every quantized value
    is typed with upstream's `quant` dialect (`!quant.uniform`, per-axis and
    sub-channel). It adds

    * `qopt.stats`: calibration statistics attached to a float value;
    * `qopt.requantize`: conversion between two quantized types that share an
      expressed type (an i32 accumulator to i8, i8 to i8 with another scale);
    * `#qopt.precision`: the precision chosen for an op.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class QOpt_Op<string mnemonic, list<Trait> traits = []>
    : Op<QOpt_Dialect, mnemonic, traits>;

#endif // QOPT_DIALECT_QOPT_IR_QOPTDIALECT_TD
