//===- ExposeTensors.cpp - return named tensors as extra results -*- C++
//-*-===//
//
// qopt-expose-tensors: tools that look inside a model (qopt-calibrate,
// qopt-compare) need the value of every named tensor, not just the outputs.
// This pass appends each named float or quantized tensor of one public
// function to its results and records, in the `qopt.exposed` function
// attribute, which result holds which name and how to dequantize it, so that
// the module can be lowered and JIT-compiled once and every tensor read back
// from one call. Quantized values are returned as their storage integers:
// run before qopt-lower-quant, the pass captures what the integer program
// computes, not a float simulation of it.
//
//===----------------------------------------------------------------------===//

#include "qopt/Transforms/Passes.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_EXPOSETENSORS
#include "qopt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
class ExposeTensorsPass
    : public qopt::impl::ExposeTensorsBase<ExposeTensorsPass> {
public:
  using Base::Base;
  void runOnOperation() override;
};
} // namespace

/// The element type of a value the pass can expose: a float the .npy format
/// holds, or a per-tensor / per-axis uniform quantized type with integer
/// storage of 8, 16 or 32 bits. Null otherwise.
static Type getExposableElementType(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type)
    return {};
  Type elem = type.getElementType();
  if (elem.isF16() || elem.isF32() || elem.isF64())
    return elem;
  if (isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType>(
          elem)) {
    auto qtype = cast<quant::QuantizedType>(elem);
    unsigned width = qtype.getStorageTypeIntegralWidth();
    if (width == 8 || width == 16 || width == 32)
      return elem;
  }
  return {};
}

/// True for values computed from constants only (weights, biases and their
/// quantized forms): they are in the module already.
static bool isConstantDerived(Value value, llvm::DenseMap<Value, bool> &cache) {
  if (isa<BlockArgument>(value))
    return false;
  auto it = cache.find(value);
  if (it != cache.end())
    return it->second;
  Operation *op = value.getDefiningOp();
  bool constant = true;
  if (!matchPattern(value, m_Constant())) {
    // Ops with regions (linalg.generic) may read values from above: a
    // gather such as the imported nearest Resize takes only constant index
    // tables as operands and reads its data with tensor.extract inside its
    // body. Those captured values count as inputs too. An op with a region
    // and no inputs at all is treated as non-constant.
    SmallVector<Value> inputs(op->getOperands());
    if (op->getNumRegions() > 0) {
      llvm::SetVector<Value> captured;
      getUsedValuesDefinedAbove(op->getRegions(), captured);
      inputs.append(captured.begin(), captured.end());
    }
    constant = !inputs.empty() || op->getNumRegions() == 0;
    for (Value operand : inputs)
      if (!isConstantDerived(operand, cache)) {
        constant = false;
        break;
      }
  }
  cache[value] = constant;
  return constant;
}

void ExposeTensorsPass::runOnOperation() {
  ModuleOp module = getOperation();
  func::FuncOp func;
  if (!entry.empty()) {
    func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal()) {
      module.emitError() << "qopt-expose-tensors: no function @" << entry
                         << " with a body in this module";
      return signalPassFailure();
    }
  } else {
    SmallVector<func::FuncOp> candidates;
    for (auto f : module.getOps<func::FuncOp>())
      if (f.isPublic() && !f.isExternal())
        candidates.push_back(f);
    if (candidates.size() != 1) {
      InFlightDiagnostic diag = module.emitError() << "qopt-expose-tensors: ";
      if (candidates.empty()) {
        diag << "no public function with a body";
      } else {
        diag << candidates.size()
             << " public functions; choose one with entry=NAME (";
        llvm::interleaveComma(candidates, diag, [&](func::FuncOp f) {
          diag << "@" << f.getName();
        });
        diag << ")";
      }
      return signalPassFailure();
    }
    func = candidates.front();
  }
  if (!SymbolTable::symbolKnownUseEmpty(func, module)) {
    func.emitError() << "qopt-expose-tensors: @" << func.getName()
                     << " is called inside the module; its results cannot "
                        "change";
    return signalPassFailure();
  }
  if (!func.getBody().hasOneBlock()) {
    func.emitError() << "qopt-expose-tensors: @" << func.getName()
                     << " has more than one block; only single-block "
                        "functions are supported";
    return signalPassFailure();
  }

  // The last exposable value carrying each name, in order of first
  // appearance of the name.
  llvm::MapVector<StringRef, Value> byName;
  llvm::StringMap<std::string> nameStorage;
  llvm::DenseMap<Value, bool> constantCache;
  forEachNamedValue(func, [&](Value value, StringRef name) {
    if (!getExposableElementType(value) ||
        isConstantDerived(value, constantCache))
      return;
    // Values inside nested regions (linalg bodies) are scalars; only the
    // function body's values are tensors that outlive an op.
    if (value.getParentBlock() != &func.getBody().front())
      return;
    StringRef key = nameStorage.try_emplace(name, name.str()).first->getKey();
    byName[key] = value;
  });

  Block &body = func.getBody().front();
  auto ret = dyn_cast<func::ReturnOp>(body.getTerminator());
  if (!ret) {
    func.emitError() << "qopt-expose-tensors: @" << func.getName()
                     << " does not end in func.return";
    return signalPassFailure();
  }
  OpBuilder builder(ret);
  MLIRContext *ctx = &getContext();
  SmallVector<Value> newResults(ret.getOperands());
  SmallVector<Attribute> records;
  unsigned firstNew = newResults.size();
  for (auto [name, value] : byName) {
    Type elem = getExposableElementType(value);
    SmallVector<NamedAttribute> fields;
    fields.push_back(builder.getNamedAttr("name", builder.getStringAttr(name)));
    StringRef opName = "func.arg";
    if (Operation *def = value.getDefiningOp())
      opName = def->getName().getStringRef();
    fields.push_back(builder.getNamedAttr("op", builder.getStringAttr(opName)));
    fields.push_back(builder.getNamedAttr(
        "result", builder.getI64IntegerAttr(firstNew + records.size())));
    Value returned = value;
    if (auto qtype = dyn_cast<quant::QuantizedType>(elem)) {
      SmallVector<double> scales;
      SmallVector<int64_t> zeroPoints;
      if (auto perTensor = dyn_cast<quant::UniformQuantizedType>(qtype)) {
        scales.push_back(perTensor.getScale());
        zeroPoints.push_back(perTensor.getZeroPoint());
      } else {
        auto perAxis = cast<quant::UniformQuantizedPerAxisType>(qtype);
        scales.assign(perAxis.getScales().begin(), perAxis.getScales().end());
        zeroPoints.assign(perAxis.getZeroPoints().begin(),
                          perAxis.getZeroPoints().end());
        fields.push_back(builder.getNamedAttr(
            "axis",
            builder.getI64IntegerAttr(perAxis.getQuantizedDimension())));
      }
      fields.push_back(
          builder.getNamedAttr("scale", builder.getDenseF64ArrayAttr(scales)));
      fields.push_back(builder.getNamedAttr(
          "zero_point", builder.getDenseI64ArrayAttr(zeroPoints)));
      auto tensorType = cast<RankedTensorType>(value.getType());
      returned = quant::StorageCastOp::create(
          builder, value.getLoc(), tensorType.clone(qtype.getStorageType()),
          value);
    }
    newResults.push_back(returned);
    records.push_back(DictionaryAttr::get(ctx, fields));
  }

  ret->setOperands(newResults);
  SmallVector<Type> resultTypes;
  for (Value v : newResults)
    resultTypes.push_back(v.getType());
  func.setType(FunctionType::get(ctx, func.getArgumentTypes(), resultTypes));
  // Result attributes keep their count in step with the results.
  if (ArrayAttr resAttrs = func.getAllResultAttrs()) {
    SmallVector<Attribute> attrs(resAttrs.begin(), resAttrs.end());
    attrs.resize(resultTypes.size(), DictionaryAttr::get(ctx, {}));
    func.setAllResultAttrs(attrs);
  }
  func->setAttr("qopt.exposed", ArrayAttr::get(ctx, records));
  numExposed += records.size();
}
