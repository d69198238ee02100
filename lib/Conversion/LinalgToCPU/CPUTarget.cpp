//===- CPUTarget.cpp - CPU target queries for the CPU lowering ------------===//
//
// Resolves qopt-lower-cpu's target options against LLVM's target registry
// (so that a misspelt CPU is an error, not a silent generic build) and
// answers feature queries from the target attributes on functions. Feature
// sets come from LLVM's own CPU tables, the ones llc and the JIT use.
//
//===----------------------------------------------------------------------===//

#include "CPUTarget.h"

#include "mlir/Dialect/LLVMIR/LLVMAttrs.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>
#include <mutex>

using namespace mlir;
using namespace mlir::qopt;

static void initializeTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargetMCs();
  });
}

FailureOr<CPUTarget> mlir::qopt::resolveCPUTarget(StringRef target,
                                                  StringRef cpu,
                                                  StringRef features,
                                                  std::string &errorMessage) {
  initializeTargets();
  CPUTarget result;
  if (target == "x86_64")
    result.triple = "x86_64-unknown-linux-gnu";
  else if (target == "aarch64")
    result.triple = "aarch64-unknown-linux-gnu";
  else
    result.triple = llvm::Triple::normalize(target);
  llvm::Triple triple(result.triple);
  if (triple.getArch() != llvm::Triple::x86_64 &&
      triple.getArch() != llvm::Triple::aarch64) {
    errorMessage =
        ("target '" + target + "' is not supported; use x86_64 or aarch64")
            .str();
    return failure();
  }
  std::string lookupError;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!llvmTarget) {
    errorMessage =
        "LLVM has no target for '" + result.triple + "': " + lookupError;
    return failure();
  }

  SmallVector<std::string> featureList;
  if (cpu == "host") {
    llvm::Triple host(llvm::sys::getProcessTriple());
    if (host.getArch() != triple.getArch()) {
      errorMessage = ("cpu=host names this machine (" + host.getArchName() +
                      "), which is not the target '" + target + "'; name a CPU")
                         .str();
      return failure();
    }
    result.cpu = llvm::sys::getHostCPUName().str();
    // The host's actual features: a virtual machine may hide some that the
    // CPU name implies.
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      featureList.push_back((feature.second ? "+" : "-") +
                            feature.first().str());
  } else {
    result.cpu = cpu.str();
  }
  SmallVector<StringRef> userFeatures;
  features.split(userFeatures, ',', -1, /*KeepEmpty=*/false);
  for (StringRef feature : userFeatures) {
    feature = feature.trim();
    if (!feature.starts_with("+") && !feature.starts_with("-")) {
      errorMessage = ("feature '" + feature +
                      "' must start with '+' or '-' (as in +avx512vnni)")
                         .str();
      return failure();
    }
    featureList.push_back(feature.str());
  }
  llvm::sort(featureList);
  result.features = llvm::join(featureList, ",");

  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      llvmTarget->createMCSubtargetInfo(triple, "", ""));
  if (!subtarget || !subtarget->isCPUStringValid(result.cpu)) {
    errorMessage = "cpu '" + result.cpu + "' is not a CPU LLVM knows for " +
                   result.triple + " (see llc-22 -mtriple=" + result.triple +
                   " -mcpu=help)";
    return failure();
  }
  for (StringRef feature : userFeatures) {
    feature = feature.trim();
    StringRef name = feature.drop_front();
    if (llvm::none_of(subtarget->getAllProcessorFeatures(),
                      [&](const llvm::SubtargetFeatureKV &kv) {
                        return name == kv.Key;
                      })) {
      errorMessage =
          ("feature '" + feature + "' is not a feature of " + result.triple)
              .str();
      return failure();
    }
  }
  return result;
}

bool mlir::qopt::isAArch64Target(Operation *funcOp) {
  auto module = funcOp->getParentOfType<ModuleOp>();
  auto tripleAttr = module ? module->getAttrOfType<StringAttr>(
                                 LLVM::LLVMDialect::getTargetTripleAttrName())
                           : StringAttr();
  return tripleAttr && llvm::Triple(tripleAttr.str()).isAArch64();
}

bool CPUFeatureQuery::hasFeatures(Operation *funcOp,
                                  ArrayRef<StringRef> features) {
  auto cpuAttr = funcOp->getAttrOfType<StringAttr>("target_cpu");
  auto featuresAttr =
      funcOp->getAttrOfType<LLVM::TargetFeaturesAttr>("target_features");
  auto module = funcOp->getParentOfType<ModuleOp>();
  auto tripleAttr = module ? module->getAttrOfType<StringAttr>(
                                 LLVM::LLVMDialect::getTargetTripleAttrName())
                           : StringAttr();
  if (!tripleAttr || (!cpuAttr && !featuresAttr))
    return false;
  std::string cpu = cpuAttr ? cpuAttr.str() : "";
  std::string featureString =
      featuresAttr ? featuresAttr.getFeaturesString() : "";
  std::string key = tripleAttr.str() + "|" + cpu + "|" + featureString + "|" +
                    llvm::join(features, ",");
  auto it = cache.find(key);
  if (it != cache.end())
    return it->second;

  initializeTargets();
  bool answer = false;
  llvm::Triple triple(tripleAttr.str());
  std::string error;
  if (const llvm::Target *target =
          llvm::TargetRegistry::lookupTarget(triple, error)) {
    std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
        target->createMCSubtargetInfo(triple, cpu, featureString));
    // checkFeatures aborts on a feature the target does not define (an x86
    // feature asked of aarch64): such a feature is simply absent.
    auto known = [&](StringRef feature) {
      return llvm::any_of(subtarget->getAllProcessorFeatures(),
                          [&](const llvm::SubtargetFeatureKV &kv) {
                            return feature == kv.Key;
                          });
    };
    if (subtarget && llvm::all_of(features, known)) {
      SmallVector<std::string> wanted;
      for (StringRef feature : features)
        wanted.push_back("+" + feature.str());
      answer = subtarget->checkFeatures(llvm::join(wanted, ","));
    }
  }
  cache[key] = answer;
  return answer;
}
