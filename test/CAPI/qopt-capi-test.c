//===- qopt-capi-test.c - exercise qopt's C API from C -------------------===//
//
// A C program that uses only include/qopt-c and mlir-c, linked against
// libQOptCAPI.so: registration, parsing, pass pipelines (plain, anchored,
// qopt's own passes) and their diagnostics, the error paths (bad pipeline,
// malformed and invalid IR, a failing pass, a missing calibration file),
// and the calibration converter. argv[1] is test/CAPI/Inputs.
//
//===----------------------------------------------------------------------===//

// RUN: qopt-capi-test %S/Inputs 2>&1 | FileCheck %s

#include "qopt-c/Calibration.h"
#include "qopt-c/Pipeline.h"
#include "qopt-c/Registration.h"

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <stdio.h>
#include <string.h>

static const char *severityName(QoptDiagnosticSeverity severity) {
  switch (severity) {
  case QoptDiagnosticError:
    return "error";
  case QoptDiagnosticWarning:
    return "warning";
  case QoptDiagnosticNote:
    return "note";
  case QoptDiagnosticRemark:
    return "remark";
  }
  return "?";
}

static void printDiagnostic(QoptDiagnosticSeverity severity,
                            MlirStringRef location, MlirStringRef message,
                            void *userData) {
  if (userData)
    ++*(int *)userData;
  printf("diag: %s at %.*s: %.*s\n", severityName(severity),
         (int)location.length, location.data, (int)message.length,
         message.data);
}

static void printString(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stdout);
}

static void printError(MlirStringRef text, void *userData) {
  ++*(int *)userData;
  printf("error: %.*s\n", (int)text.length, text.data);
}

static MlirStringRef str(const char *text) {
  return mlirStringRefCreateFromCString(text);
}

static MlirContext createContext(void) {
  MlirContext context = mlirContextCreate();
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  qoptRegisterAllDialects(registry);
  mlirContextAppendDialectRegistry(context, registry);
  mlirDialectRegistryDestroy(registry);
  return context;
}

// Parses `source`, runs `pipeline` and prints the module or the diagnostics.
static void compile(MlirContext context, const char *name, const char *source,
                    const char *pipeline) {
  int diagnostics = 0;
  printf("== %s\n", name);
  MlirModule module = qoptParseModule(context, str(source), str(name),
                                      printDiagnostic, &diagnostics);
  if (mlirModuleIsNull(module)) {
    printf("parse failed, %d diagnostic(s)\n", diagnostics);
    return;
  }
  MlirLogicalResult result =
      qoptRunPassPipeline(module, str(pipeline), printDiagnostic, &diagnostics);
  if (mlirLogicalResultIsFailure(result))
    printf("pipeline failed, %d diagnostic(s)\n", diagnostics);
  else
    mlirOperationPrint(mlirModuleGetOperation(module), printString, NULL);
  printf("\n");
  mlirModuleDestroy(module);
}

static void report(const char *what, MlirLogicalResult result, int errors) {
  printf("%s: %s, %d error(s)\n", what,
         mlirLogicalResultIsSuccess(result) ? "success" : "failure", errors);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: qopt-capi-test INPUTS_DIR\n");
    return 2;
  }
  char calibJson[4096], calibCache[4096], missing[4096], pipeline[8192];
  snprintf(calibJson, sizeof(calibJson), "%s/calib.json", argv[1]);
  snprintf(calibCache, sizeof(calibCache), "%s/calib.cache", argv[1]);
  snprintf(missing, sizeof(missing), "%s/no-such-file.json", argv[1]);

  MlirStringRef version = qoptGetVersion();
  MlirStringRef llvmVersion = qoptGetLLVMVersion();
  // CHECK: qopt {{[0-9]+\.[0-9]+\.[0-9]+}} on LLVM {{[0-9]+\.[0-9]+\.[0-9]+}}
  printf("qopt %.*s on LLVM %.*s\n", (int)version.length, version.data,
         (int)llvmVersion.length, llvmVersion.data);

  // Registering twice is harmless.
  qoptRegisterAllPasses();
  qoptRegisterAllPasses();
  MlirContext context = createContext();

  // Upstream passes, unanchored and anchored: 2 + 3 folds to 5.
  const char *add = "func.func @add() -> i32 {\n"
                    "  %a = arith.constant 2 : i32\n"
                    "  %b = arith.constant 3 : i32\n"
                    "  %c = arith.addi %a, %b : i32\n"
                    "  return %c : i32\n"
                    "}\n";
  // CHECK-LABEL: == add.mlir
  // CHECK: func.func @add() -> i32 {
  // CHECK-NEXT: %[[C:.*]] = arith.constant 5 : i32
  // CHECK-NEXT: return %[[C]] : i32
  compile(context, "add.mlir", add, "canonicalize");
  // CHECK-LABEL: == anchored.mlir
  // CHECK: arith.constant 5 : i32
  compile(context, "anchored.mlir", add,
          "builtin.module(func.func(canonicalize))");

  // A qopt pass: calibration statistics from calib.json become qopt.stats.
  const char *model =
      "func.func @m(%x: tensor<4xf32> {qopt.name = \"input\"}) -> "
      "tensor<4xf32> {\n"
      "  %s = arith.addf %x, %x : tensor<4xf32> loc(\"sum\")\n"
      "  return %s : tensor<4xf32>\n"
      "}\n";
  // CHECK-LABEL: == model.mlir
  // CHECK: diag: remark at model.mlir: imported 2 statistics from '{{.*}}calib.json' (qopt, detected); 0 entries matched no tensor, 0 tensors have no statistics
  // CHECK: qopt.stats %{{.*}} min [-1.500000e+00] max [2.000000e+00] : tensor<4xf32>
  // CHECK: arith.addf
  // CHECK: qopt.stats %{{.*}} min [-3.000000e+00] max [4.000000e+00] histogram [-3.000000e+00, 4.000000e+00] counts [1, 0, 2, 5] : tensor<4xf32>
  snprintf(pipeline, sizeof(pipeline), "qopt-import-calibration{file=%s}",
           calibJson);
  compile(context, "model.mlir", model, pipeline);

  // Error paths: each reports located errors and fails, nothing crashes.
  // CHECK-LABEL: == bad-pipeline.mlir
  // CHECK-NEXT: diag: error at pipeline:1:14: 'no-such-pass' does not refer to a registered pass or pass pipeline
  // CHECK-NEXT: pipeline failed, 1 diagnostic(s)
  compile(context, "bad-pipeline.mlir", add, "canonicalize,no-such-pass");
  // CHECK-LABEL: == bad-option.mlir
  // CHECK-NEXT: diag: error at pipeline: no such option no-such-option; failed to add `qopt-import-calibration` with options `no-such-option=1`
  // CHECK-NEXT: pipeline failed, 1 diagnostic(s)
  compile(context, "bad-option.mlir", add,
          "qopt-import-calibration{no-such-option=1}");
  // CHECK-LABEL: == malformed.mlir
  // CHECK-NEXT: diag: error at malformed.mlir:2:19: use of undeclared SSA value name
  // CHECK-NEXT: parse failed, 1 diagnostic(s)
  compile(context, "malformed.mlir",
          "func.func @f() -> i32 {\n  %c = arith.addi %a, %a : i32\n"
          "  return %c : i32\n}\n",
          "canonicalize");
  // CHECK-LABEL: == invalid.mlir
  // CHECK-NEXT: diag: error at invalid.mlir:2:3: type of return operand 0 ('i64') doesn't match function result type ('i32') in function @f
  // CHECK-NEXT: diag: note at invalid.mlir:2:3: see current operation: "func.return"(%arg0) : (i64) -> ()
  // CHECK-NEXT: parse failed, 2 diagnostic(s)
  compile(context, "invalid.mlir",
          "func.func @f(%a: i64) -> i32 {\n  return %a : i64\n}\n",
          "canonicalize");
  // CHECK-LABEL: == missing-calibration.mlir
  // CHECK-NEXT: diag: error at missing-calibration.mlir: cannot import calibration: {{.*}}no-such-file.json: cannot read the calibration file: No such file or directory
  // CHECK-NEXT: pipeline failed, 1 diagnostic(s)
  snprintf(pipeline, sizeof(pipeline), "qopt-import-calibration{file=%s}",
           missing);
  compile(context, "missing-calibration.mlir", model, pipeline);

  // qoptModuleIsLLVMDialect tells lowered modules from others.
  MlirModule llvmModule =
      qoptParseModule(context, str("llvm.func @f() {\n  llvm.return\n}\n"),
                      str("llvm.mlir"), printDiagnostic, NULL);
  MlirModule funcModule =
      qoptParseModule(context, str(add), str("add.mlir"), NULL, NULL);
  // CHECK: is LLVM dialect: llvm.mlir 1, add.mlir 0
  printf("is LLVM dialect: llvm.mlir %d, add.mlir %d\n",
         qoptModuleIsLLVMDialect(llvmModule),
         qoptModuleIsLLVMDialect(funcModule));
  mlirModuleDestroy(llvmModule);
  mlirModuleDestroy(funcModule);

  // MLIR's own parser works on the same context.
  MlirModule plain = mlirModuleCreateParse(context, str(add));
  // CHECK: mlirModuleCreateParse: ok
  printf("mlirModuleCreateParse: %s\n",
         mlirModuleIsNull(plain) ? "null" : "ok");
  mlirModuleDestroy(plain);
  mlirContextDestroy(context);

  // A context registered through qoptContextRegisterAllDialects parses a
  // qopt op.
  MlirContext second = mlirContextCreate();
  qoptContextRegisterAllDialects(second);
  // CHECK-LABEL: == stats.mlir
  // CHECK: qopt.stats %arg0 min [0.000000e+00] max [1.000000e+00] : tensor<2xf32>
  compile(second, "stats.mlir",
          "func.func @s(%x: tensor<2xf32>) -> tensor<2xf32> {\n"
          "  %0 = qopt.stats %x min [0.0] max [1.0] : tensor<2xf32>\n"
          "  return %0 : tensor<2xf32>\n}\n",
          "cse");
  mlirContextDestroy(second);

  // Calibration: TensorRT scales 1.0 (0x3f800000) and 2.0 (0x40000000) are
  // the ranges [-127, 127] and [-254, 254] in qopt JSON.
  int errors = 0;
  // CHECK-LABEL: convert calib.cache:
  // CHECK: "qopt_calibration": 1,
  // CHECK: "producer": "TRT-8601-EntropyCalibration2",
  // CHECK: "input": {"min": -127.0, "max": 127.0, "scale": 1.0, "zero_point": 0, "bits": 8, "symmetric": true},
  // CHECK: "sum": {"min": -254.0, "max": 254.0, "scale": 2.0, "zero_point": 0, "bits": 8, "symmetric": true}
  // CHECK: convert calib.cache: success, 0 error(s)
  printf("convert calib.cache:\n");
  MlirLogicalResult result =
      qoptCalibrationConvertFile(str(calibCache), str("auto"), str("qopt"),
                                 printString, printError, &errors);
  report("convert calib.cache", result, errors);

  // qopt JSON to a TensorRT cache: amax 2.0 / 127 and 4.0 / 127 in float32
  // have the mantissa of 1/127 (0x3c010204) with the exponent + 1 and + 2.
  // CHECK-LABEL: convert calib.json to tensorrt:
  // CHECK-NEXT: TRT-8601-EntropyCalibration2
  // CHECK-NEXT: input: 3c810204
  // CHECK-NEXT: sum: 3d010204
  // CHECK-NEXT: convert calib.json: success, 0 error(s)
  printf("convert calib.json to tensorrt:\n");
  result = qoptCalibrationConvertFile(str(calibJson), str(""), str("tensorrt"),
                                      printString, printError, &errors);
  report("convert calib.json", result, errors);

  // An ONNX Runtime cache from memory: amax 2.5 is the range [-2.5, 2.5].
  // CHECK: "x": {"min": -2.5, "max": 2.5, "symmetric": true}
  // CHECK: convert mem.cache: success, 0 error(s)
  result = qoptCalibrationConvert(str("x 2.5\n"), str("mem.cache"),
                                  str("onnxruntime"), str("qopt"), printString,
                                  printError, &errors);
  report("convert mem.cache", result, errors);

  // Errors: one message naming the file (and line), failure, no output.
  errors = 0;
  // CHECK: error: {{.*}}no-such-file.json: cannot read the calibration file: No such file or directory
  // CHECK-NEXT: missing file: failure, 1 error(s)
  result = qoptCalibrationConvertFile(str(missing), str("auto"), str("qopt"),
                                      printString, printError, &errors);
  report("missing file", result, errors);
  errors = 0;
  // CHECK: error: bad.json:1:23: invalid JSON: expected object key
  // CHECK-NEXT: malformed: failure, 1 error(s)
  result = qoptCalibrationConvert(str("{\"qopt_calibration\": 1,"),
                                  str("bad.json"), str("qopt"), str("qopt"),
                                  printString, printError, &errors);
  report("malformed", result, errors);
  errors = 0;
  // CHECK: error: bad.json:1: tensor 'a': min (2.0) is greater than max (1.0)
  // CHECK-NEXT: min > max: failure, 1 error(s)
  result = qoptCalibrationConvert(
      str("{\"qopt_calibration\": 1, \"tensors\": {\"a\": {\"min\": 2, "
          "\"max\": 1}}}"),
      str("bad.json"), str("auto"), str("qopt"), printString, printError,
      &errors);
  report("min > max", result, errors);
  errors = 0;
  // CHECK: error: unknown calibration format 'onnx' (expected auto, qopt, tensorrt, onnxruntime, onnxruntime-cache, aimet or tpu-mlir)
  // CHECK-NEXT: unknown format: failure, 1 error(s)
  result = qoptCalibrationConvertFile(str(calibJson), str("onnx"), str("qopt"),
                                      printString, printError, &errors);
  report("unknown format", result, errors);
  errors = 0;
  // CHECK: error: cannot write calibration format 'aimet' (qopt writes qopt and tensorrt)
  // CHECK-NEXT: unwritable format: failure, 1 error(s)
  result = qoptCalibrationConvertFile(str(calibJson), str("auto"), str("aimet"),
                                      printString, printError, &errors);
  report("unwritable format", result, errors);
  errors = 0;
  // CHECK: error: w.json: cannot write it as tensorrt: tensor 'w' has per-axis stats; a TensorRT calibration cache holds one scale per tensor
  // CHECK-NEXT: per-axis to tensorrt: failure, 1 error(s)
  result = qoptCalibrationConvert(
      str("{\"qopt_calibration\": 1, \"tensors\": {\"w\": {\"axis\": 0, "
          "\"min\": [-1, -2], \"max\": [1, 2]}}}"),
      str("w.json"), str("qopt"), str("tensorrt"), printString, printError,
      &errors);
  report("per-axis to tensorrt", result, errors);
  errors = 0;
  // CHECK: error: what.txt: cannot tell the calibration format from the contents; name it with format=qopt|tensorrt|onnxruntime|aimet|tpu-mlir
  // CHECK-NEXT: undetectable: failure, 1 error(s)
  result =
      qoptCalibrationConvert(str("hello\n"), str("what.txt"), str("auto"),
                             str("qopt"), printString, printError, &errors);
  report("undetectable", result, errors);

  // CHECK: detect: [qopt] [tensorrt] [onnxruntime-cache] []
  printf("detect: [%s] [%s] [%s] [%s]\n",
         qoptCalibrationDetectFormat(str("{\"qopt_calibration\": 1}")).data,
         qoptCalibrationDetectFormat(str("TRT-8601-MinMaxCalibration\n")).data,
         qoptCalibrationDetectFormat(str("x 2.5\n")).data,
         qoptCalibrationDetectFormat(str("hello\n")).data);
  return 0;
}
