//===- QOptAttrs.cpp - qopt attributes --------------------------*- C++ -*-===//
//
// Parsing, printing and verification of #qopt.precision.
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOptAttrs.h"
#include "qopt/Dialect/QOpt/IR/QOptDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qopt;

#include "qopt/Dialect/QOpt/IR/QOptEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "qopt/Dialect/QOpt/IR/QOptAttrs.cpp.inc"

void QOptDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qopt/Dialect/QOpt/IR/QOptAttrs.cpp.inc"
      >();
}

/// Element types a precision may name: integers of 2 to 16 bits (quantized
/// storage) or the float types qopt keeps ops in.
static bool isPrecisionElementType(Type type) {
  if (auto intType = dyn_cast<IntegerType>(type))
    return intType.getWidth() >= 2 && intType.getWidth() <= 16;
  return type.isF16() || type.isBF16() || type.isF32() ||
         isa<Float8E4M3FNType, Float8E5M2Type>(type);
}

LogicalResult
PrecisionAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                      Type activation, Type weight, Granularity granularity,
                      int64_t groupSize) {
  if (!activation)
    return emitError() << "precision needs an activation element type";
  if (!isPrecisionElementType(activation))
    return emitError() << "activation element type " << activation
                       << " is not supported; use an integer of 2 to 16 bits "
                          "or one of f16, bf16, f32, f8E4M3FN, f8E5M2";
  if (weight && !isPrecisionElementType(weight))
    return emitError() << "weight element type " << weight
                       << " is not supported; use an integer of 2 to 16 bits "
                          "or one of f16, bf16, f32, f8E4M3FN, f8E5M2";
  bool intWeights = weight && isa<IntegerType>(weight);
  if (isa<IntegerType>(activation) && weight && !intWeights)
    return emitError() << "integer activations (" << activation
                       << ") need integer weights, not " << weight;
  if (!intWeights && (granularity != Granularity::PerTensor || groupSize != 0))
    return emitError() << "a granularity applies only to integer weights";
  if (granularity == Granularity::PerGroup && groupSize <= 0)
    return emitError() << "per_group needs a positive group size, got "
                       << groupSize;
  if (granularity != Granularity::PerGroup && groupSize != 0)
    return emitError() << "a group size is only meaningful with per_group";
  return success();
}

// #qopt.precision<act = T [, weight = T [, per_tensor | per_channel |
//                 per_group = N]]>
Attribute PrecisionAttr::parse(AsmParser &parser, Type) {
  Type activation, weight;
  Granularity granularity = Granularity::PerTensor;
  int64_t groupSize = 0;
  bool granularityGiven = false;
  if (parser.parseLess() || parser.parseKeyword("act") || parser.parseEqual() ||
      parser.parseType(activation))
    return {};
  if (succeeded(parser.parseOptionalComma())) {
    if (parser.parseKeyword("weight") || parser.parseEqual() ||
        parser.parseType(weight))
      return {};
    if (succeeded(parser.parseOptionalComma())) {
      SMLoc loc = parser.getCurrentLocation();
      StringRef keyword;
      if (parser.parseKeyword(&keyword))
        return {};
      std::optional<Granularity> parsed = symbolizeGranularity(keyword);
      if (!parsed) {
        parser.emitError(loc) << "expected per_tensor, per_channel or "
                                 "per_group = N, got '"
                              << keyword << "'";
        return {};
      }
      granularity = *parsed;
      granularityGiven = true;
      if (granularity == Granularity::PerGroup &&
          (parser.parseEqual() || parser.parseInteger(groupSize)))
        return {};
    }
  }
  if (parser.parseGreater())
    return {};
  // Integer weights default to per-channel parameters, as qopt-legalize does.
  if (!granularityGiven && weight && isa<IntegerType>(weight))
    granularity = Granularity::PerChannel;
  return parser.getChecked<PrecisionAttr>(parser.getContext(), activation,
                                          weight, granularity, groupSize);
}

void PrecisionAttr::print(AsmPrinter &printer) const {
  printer << "<act = " << getActivation();
  if (getWeight()) {
    printer << ", weight = " << getWeight();
    if (hasIntegerWeights()) {
      printer << ", " << stringifyGranularity(getGranularity());
      if (getGranularity() == Granularity::PerGroup)
        printer << " = " << getGroupSize();
    }
  }
  printer << ">";
}
