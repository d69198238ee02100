//===- Pipeline.cpp - C API: parse a module, run a pass pipeline ----------===//
//
// Implements qopt-c/Pipeline.h. Each call installs a diagnostic handler on
// the context for its duration, so that parser, verifier and pass
// diagnostics reach the caller's callback (with their locations and notes)
// instead of stderr.
//
//===----------------------------------------------------------------------===//

#include "qopt-c/Pipeline.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {
/// `FILE:LINE:COL` for the first file location inside `loc`, else the
/// printed location.
std::string formatLocation(Location loc) {
  FileLineColLoc fileLoc;
  loc->walk([&](Location nested) {
    if (auto found = dyn_cast<FileLineColLoc>(nested)) {
      fileLoc = found;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  std::string text;
  llvm::raw_string_ostream os(text);
  // The module the parser creates is at FILE:0:0, which means the file.
  if (fileLoc && fileLoc.getLine() == 0 && fileLoc.getColumn() == 0)
    os << fileLoc.getFilename().getValue();
  else if (fileLoc)
    os << fileLoc.getFilename().getValue() << ":" << fileLoc.getLine() << ":"
       << fileLoc.getColumn();
  else
    loc.print(os);
  return text;
}

QoptDiagnosticSeverity convertSeverity(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return QoptDiagnosticError;
  case DiagnosticSeverity::Warning:
    return QoptDiagnosticWarning;
  case DiagnosticSeverity::Note:
    return QoptDiagnosticNote;
  case DiagnosticSeverity::Remark:
    return QoptDiagnosticRemark;
  }
  return QoptDiagnosticError;
}

/// Reports what the pass pipeline parser printed as one error. The textual
/// parser prints `MLIR Textual PassPipeline Parser:1:14: error: MESSAGE`
/// followed by the pipeline and a caret line; that becomes the location
/// `pipeline:1:14` and MESSAGE. The pass option parser prints
/// `<Pass-Options-Parser>: MESSAGE` and then what it failed to add; those
/// lines are joined with "; " at the location `pipeline`.
std::pair<std::string, std::string> splitPipelineError(StringRef text) {
  SmallVector<StringRef> lines;
  text.split(lines, '\n', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  if (lines.empty())
    return {"pipeline", "invalid pass pipeline"};
  StringRef first = lines.front().trim();
  constexpr StringLiteral kParser = "MLIR Textual PassPipeline Parser:";
  if (first.consume_front(kParser)) {
    auto [position, message] = first.split(": error: ");
    return {("pipeline:" + position).str(), message.trim().str()};
  }
  std::string message;
  for (StringRef line : lines) {
    line = line.trim();
    line.consume_front("<Pass-Options-Parser>: ");
    if (line.empty())
      continue;
    if (!message.empty())
      message += "; ";
    message += line.str();
  }
  return {"pipeline", message};
}

/// Forwards every diagnostic emitted in `context` while alive to a
/// QoptDiagnosticCallback, and remembers whether an error was reported.
class CallbackDiagnostics {
public:
  CallbackDiagnostics(MLIRContext *context, QoptDiagnosticCallback callback,
                      void *userData)
      : handler(context,
                [this](Diagnostic &diag) {
                  forward(diag);
                  return success();
                }),
        callback(callback), userData(userData) {}

  /// Reports an error without a location in the IR.
  void error(StringRef location, StringRef message) {
    sawError = true;
    if (callback)
      callback(QoptDiagnosticError, wrap(location), wrap(message), userData);
  }

  bool hasError() const { return sawError; }

private:
  void forward(Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      sawError = true;
    if (!callback)
      return;
    report(diag);
    for (Diagnostic &note : diag.getNotes())
      report(note);
  }

  void report(Diagnostic &diag) {
    std::string location = formatLocation(diag.getLocation());
    std::string message = diag.str();
    callback(convertSeverity(diag.getSeverity()), wrap(StringRef(location)),
             wrap(StringRef(message)), userData);
  }

  ScopedDiagnosticHandler handler;
  QoptDiagnosticCallback callback;
  void *userData;
  bool sawError = false;
};
} // namespace

MlirModule qoptParseModule(MlirContext context, MlirStringRef source,
                           MlirStringRef sourceName,
                           QoptDiagnosticCallback callback, void *userData) {
  MLIRContext *ctx = unwrap(context);
  CallbackDiagnostics diagnostics(ctx, callback, userData);
  StringRef name = unwrap(sourceName);
  if (name.empty())
    name = "<input>";
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(unwrap(source), ParserConfig(ctx), name);
  if (!module) {
    if (!diagnostics.hasError())
      diagnostics.error(name, "cannot parse the module");
    return MlirModule{nullptr};
  }
  return MlirModule{module.release().getOperation()};
}

MlirLogicalResult qoptRunPassPipeline(MlirModule module, MlirStringRef pipeline,
                                      QoptDiagnosticCallback callback,
                                      void *userData) {
  ModuleOp moduleOp = unwrap(module);
  MLIRContext *ctx = moduleOp.getContext();
  CallbackDiagnostics diagnostics(ctx, callback, userData);

  PassManager pm(ctx, ModuleOp::getOperationName());
  StringRef text = unwrap(pipeline).trim();
  std::string parseErrors;
  llvm::raw_string_ostream errorStream(parseErrors);
  // An anchored pipeline replaces the pass manager; parsing
  // `builtin.module(...)` into a module-anchored pass manager would nest it
  // one module deeper and silently run nothing.
  bool parsed;
  if (text.starts_with(ModuleOp::getOperationName().str() + "(")) {
    FailureOr<OpPassManager> anchored = parsePassPipeline(text, errorStream);
    parsed = succeeded(anchored);
    if (parsed)
      static_cast<OpPassManager &>(pm) = std::move(*anchored);
  } else {
    parsed = succeeded(parsePassPipeline(text, pm, errorStream));
  }
  if (!parsed) {
    auto [location, message] = splitPipelineError(parseErrors);
    diagnostics.error(location, message);
    return wrap(failure());
  }

  if (failed(pm.run(moduleOp))) {
    if (!diagnostics.hasError())
      diagnostics.error(formatLocation(moduleOp.getLoc()),
                        "the pass pipeline failed without a diagnostic: " +
                            text.str());
    return wrap(failure());
  }
  return wrap(success());
}

bool qoptModuleIsLLVMDialect(MlirModule module) {
  ModuleOp moduleOp = unwrap(module);
  WalkResult result = moduleOp.getBody()->walk([](Operation *op) {
    return isa<LLVM::LLVMDialect>(op->getDialect()) ? WalkResult::advance()
                                                    : WalkResult::interrupt();
  });
  return !result.wasInterrupted();
}
