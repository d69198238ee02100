//===- QOptDynamicOps.cpp - qopt dynamic quantization ops -------*- C++ -*-===//
//
// Verifier of qopt.dynamic_quantize (run-time u8 quantization with ONNX
// Runtime's DynamicQuantizeLinear rule): the output has the input's shape,
// and the scale and zero point are one per tensor (rank 0) or one per row
// (the input's shape with the last dimension 1).
//
//===----------------------------------------------------------------------===//

#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::qopt;

LogicalResult DynamicQuantizeOp::verify() {
  auto inType = getInput().getType();
  auto outType = getOutput().getType();
  auto scaleType = getScale().getType();
  auto zpType = getZeroPoint().getType();
  if (!outType.getElementType().isSignlessInteger(8))
    return emitOpError("output must hold signless i8 (u8 bit patterns), got ")
           << outType;
  if (failed(verifyCompatibleShape(inType.getShape(), outType.getShape())))
    return emitOpError("output shape ")
           << outType << " differs from the input shape " << inType;
  if (!zpType.getElementType().isSignlessInteger(8))
    return emitOpError("zero point must be signless i8, got ") << zpType;
  if (failed(verifyCompatibleShape(scaleType.getShape(), zpType.getShape())))
    return emitOpError("scale ") << scaleType << " and zero point " << zpType
                                 << " must have the same shape";
  if (scaleType.getRank() == 0)
    return success();
  // Per row: the input's shape with the last dimension 1.
  int64_t rank = inType.getRank();
  if (rank == 0 || scaleType.getRank() != rank ||
      scaleType.getDimSize(rank - 1) != 1)
    return emitOpError("scale ")
           << scaleType
           << " must be rank 0 (per tensor) or the input's shape with the "
              "last dimension 1 (per row), for input "
           << inType;
  for (int64_t d = 0; d + 1 < rank; ++d)
    if (!ShapedType::isDynamic(inType.getDimSize(d)) &&
        !ShapedType::isDynamic(scaleType.getDimSize(d)) &&
        inType.getDimSize(d) != scaleType.getDimSize(d))
      return emitOpError("scale ")
             << scaleType << " has size " << scaleType.getDimSize(d)
             << " in dimension " << d << " where the input " << inType
             << " has " << inType.getDimSize(d);
  return success();
}
