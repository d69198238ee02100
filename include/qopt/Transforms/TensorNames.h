//===- TensorNames.h - how tensor names find IR values ----------*- C++ -*-===//
//
// Calibration files, comparison reports and ONNX models refer to tensors by
// name. This header is the one place that says which IR value a name means:
//
//  * an op result is named by the op's location: `loc("conv1")`, or the first
//    name found inside a FusedLoc or the callee of a CallSiteLoc;
//  * an op with N > 1 results whose location is a FusedLoc holding exactly N
//    names gives result i the i-th name; otherwise result i is `name:i`;
//  * a function argument is named by its `qopt.name` argument attribute, else
//    by its own location;
//  * `qopt.stats` results have no name of their own: they are the value they
//    annotate.
//
// Ops are named by their result (pin tables, precision reports). An op whose
// result no longer holds the tensor it was named after (a convolution whose
// weights qopt-fold-batchnorm scaled) keeps that name as its op name only,
// in the metadata of a FusedLoc, `loc(fused<{qopt.op_name = "conv1"}>[...])`:
// pin tables written for the model still apply to the op, but the name is
// not a tensor name, so statistics recorded for the tensor are not attached
// to the changed values. (The importer's own FusedLoc metadata, an ONNX node
// name, names nothing.)
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TRANSFORMS_TENSORNAMES_H
#define QOPT_TRANSFORMS_TENSORNAMES_H

#include "mlir/IR/Location.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::qopt {

/// The argument attribute that names a function argument.
inline constexpr llvm::StringLiteral kNameArgAttr = "qopt.name";

/// The name a location carries (NameLoc, the callee of a CallSiteLoc, the
/// first named part of a FusedLoc), or nullopt.
std::optional<StringRef> getLocationName(Location loc);

/// The tensor name of `value` under the rules above, or "" when it has none.
std::string getTensorName(Value value);

/// The metadata key under which a FusedLoc keeps an op name (see above).
inline constexpr llvm::StringLiteral kOpNameLocKey = "qopt.op_name";

/// The name of a single-result op: its result's tensor name, else the op
/// name its location keeps (see above), else "".
std::string getOpName(Operation *op);

/// `loc`, which names a tensor the op no longer produces, turned into a
/// location that keeps the name as the op's name only (see above).
Location keepAsOpNameOnly(NameLoc loc);

/// Calls `fn(value, name)` for every named value in `root` (function
/// arguments and op results, in program order).
void forEachNamedValue(Operation *root,
                       llvm::function_ref<void(Value, StringRef)> fn);

/// True when `a` and `b` name the same tensor up to a scope prefix: one is a
/// suffix of the other and the character before it in the longer one is a
/// separator (`/`, `.` or `:`). Equal names also match.
bool namesMatchBySuffix(StringRef a, StringRef b);

} // namespace mlir::qopt

#endif // QOPT_TRANSFORMS_TENSORNAMES_H
