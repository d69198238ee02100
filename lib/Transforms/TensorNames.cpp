//===- TensorNames.cpp - how tensor names find IR values --------*- C++ -*-===//
//
// Implements the naming rule documented in TensorNames.h.
//
//===----------------------------------------------------------------------===//

#include "qopt/Transforms/TensorNames.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mlir::qopt;

std::optional<StringRef> mlir::qopt::getLocationName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().getValue();
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return getLocationName(callSite.getCallee());
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    for (Location part : fused.getLocations())
      if (std::optional<StringRef> name = getLocationName(part))
        return name;
    return std::nullopt;
  }
  if (auto opaque = dyn_cast<OpaqueLoc>(loc))
    return getLocationName(opaque.getFallbackLocation());
  return std::nullopt;
}

/// The names of a fused location's parts, in order (parts without a name are
/// skipped).
static SmallVector<StringRef> getFusedNames(Location loc) {
  SmallVector<StringRef> names;
  if (auto fused = dyn_cast<FusedLoc>(loc))
    for (Location part : fused.getLocations())
      if (std::optional<StringRef> name = getLocationName(part))
        names.push_back(*name);
  return names;
}

std::string mlir::qopt::getTensorName(Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    Operation *parent = arg.getOwner()->getParentOp();
    auto func = dyn_cast_or_null<FunctionOpInterface>(parent);
    if (func && arg.getOwner()->isEntryBlock()) {
      if (auto attr = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                        kNameArgAttr))
        return attr.getValue().str();
    }
    if (std::optional<StringRef> name = getLocationName(arg.getLoc()))
      return name->str();
    return "";
  }
  auto result = cast<OpResult>(value);
  Operation *op = result.getOwner();
  if (isa<StatsOp>(op))
    return "";
  unsigned numResults = op->getNumResults();
  if (numResults == 1) {
    if (std::optional<StringRef> name = getLocationName(op->getLoc()))
      return name->str();
    return "";
  }
  SmallVector<StringRef> names = getFusedNames(op->getLoc());
  if (names.size() == numResults)
    return names[result.getResultNumber()].str();
  if (std::optional<StringRef> name = getLocationName(op->getLoc()))
    return (*name + ":" + Twine(result.getResultNumber())).str();
  return "";
}

std::string mlir::qopt::getOpName(Operation *op) {
  if (op->getNumResults() != 1)
    return "";
  std::string name = getTensorName(op->getResult(0));
  if (!name.empty())
    return name;
  if (auto fused = dyn_cast<FusedLoc>(op->getLoc()))
    if (auto dict = dyn_cast_or_null<DictionaryAttr>(fused.getMetadata()))
      if (auto opName = dict.getAs<StringAttr>(kOpNameLocKey))
        return opName.getValue().str();
  return "";
}

Location mlir::qopt::keepAsOpNameOnly(NameLoc loc) {
  MLIRContext *ctx = loc.getContext();
  auto metadata = DictionaryAttr::get(
      ctx,
      {NamedAttribute(StringAttr::get(ctx, kOpNameLocKey), loc.getName())});
  return FusedLoc::get(ctx, {loc.getChildLoc()}, metadata);
}

void mlir::qopt::forEachNamedValue(
    Operation *root, llvm::function_ref<void(Value, StringRef)> fn) {
  root->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (auto func = dyn_cast<FunctionOpInterface>(op)) {
      if (!func.isExternal())
        for (BlockArgument arg : func.getArguments()) {
          std::string name = getTensorName(arg);
          if (!name.empty())
            fn(arg, name);
        }
      return;
    }
    for (Value result : op->getResults()) {
      std::string name = getTensorName(result);
      if (!name.empty())
        fn(result, name);
    }
  });
}

bool mlir::qopt::namesMatchBySuffix(StringRef a, StringRef b) {
  if (a == b)
    return true;
  StringRef longer = a.size() > b.size() ? a : b;
  StringRef shorter = a.size() > b.size() ? b : a;
  if (shorter.empty() || !longer.ends_with(shorter))
    return false;
  char before = longer[longer.size() - shorter.size() - 1];
  return before == '/' || before == '.' || before == ':';
}
