//===- CPUTarget.h - CPU target queries for the CPU lowering ----*- C++ -*-===//
//
// Internal to lib/Conversion/LinalgToCPU: resolves the `target`, `cpu` and
// `features` options of qopt-lower-cpu against LLVM's target registry, and
// answers "does this function's target have feature X" for the passes that
// select target instructions.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_CONVERSION_LINALGTOCPU_CPUTARGET_H
#define QOPT_LIB_CONVERSION_LINALGTOCPU_CPUTARGET_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace mlir::qopt {

/// A resolved CPU target: a normalized triple, an LLVM CPU name and a
/// feature string in LLVM's `+a,-b` form.
struct CPUTarget {
  std::string triple;
  std::string cpu;
  std::string features;
};

/// Resolves `target` (x86_64, aarch64 or a triple), `cpu` (`host` or an LLVM
/// CPU name) and `features`. On failure returns a sentence for the user.
FailureOr<CPUTarget> resolveCPUTarget(StringRef target, StringRef cpu,
                                      StringRef features,
                                      std::string &errorMessage);

/// True when the module around `funcOp` targets aarch64 (its
/// `llvm.target_triple`).
bool isAArch64Target(Operation *funcOp);

/// Answers feature queries for functions carrying `target_cpu` /
/// `target_features` (and the module's `llvm.target_triple`), caching one
/// LLVM subtarget per distinct target.
class CPUFeatureQuery {
public:
  /// True when the target of `funcOp` has every feature in `features`
  /// (names without `+`). False when the function has no target.
  bool hasFeatures(Operation *funcOp, ArrayRef<StringRef> features);

private:
  llvm::StringMap<bool> cache;
};

} // namespace mlir::qopt

#endif // QOPT_LIB_CONVERSION_LINALGTOCPU_CPUTARGET_H
