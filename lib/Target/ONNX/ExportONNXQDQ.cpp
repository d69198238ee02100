//===- ExportONNXQDQ.cpp - qopt's quantization as a QDQ ONNX model --------===//
//
// `qopt-translate --export-onnx-qdq --onnx-model M.onnx quant.mlir`: reads a
// module in QDQ form (what qopt-legalize writes, with the ONNX tensor names
// in its locations) and the ONNX model it was imported from, and writes that
// model with QuantizeLinear/DequantizeLinear inserted where qopt quantized:
//
//  * an activation `quant.qcast %t` (its type's scale and zero point): a
//    QuantizeLinear -> DequantizeLinear pair on tensor `t`, read by the ONNX
//    nodes whose IR reads the `quant.dcast` (float consumers keep `t`);
//  * a quantized constant (`quant.scast` of an integer `arith.constant`
//    named after an initializer): the integer initializer, its scales and
//    zero points, and a DequantizeLinear (per tensor, per axis with `axis`,
//    per group with `axis` + `block_size`) read by the weight's consumers;
//    i32 biases the same way.
//
// Everything else (node and tensor names, other nodes, graph inputs and
// outputs, float tensors) is copied. The default-domain opset is raised only
// as far as the emitted Q/DQ forms need. docs/qdq-export.md has the details.
//
//===----------------------------------------------------------------------===//

#include "qopt/Target/ONNX/ExportONNXQDQ.h"

#include "Importer.h"
#include "qopt/Dialect/QOpt/IR/QOptOps.h"
#include "qopt/Target/ONNX/ImportONNX.h"
#include "qopt/Transforms/QuantizableOps.h"
#include "qopt/Transforms/TensorNames.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>

using namespace mlir;
using namespace mlir::qopt;
using namespace mlir::qopt::onnx_import;
namespace onnxp = ::onnx;

namespace {
// ONNX element types (TensorProto.DataType). INT4 and UINT4 came with ONNX
// 1.16 and are not in ONNX 1.12's enum; `data_type` is a plain int32 field
// of the protobuf, so they are written by number.
enum : int32_t {
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kUInt4 = 21,
  kInt4 = 22,
};

/// Quantization parameters as ONNX's QuantizeLinear / DequantizeLinear take
/// them, with the opset that introduced their form.
struct QDQParams {
  int32_t dtype = kInt8;
  unsigned bits = 8;
  bool isSigned = true;
  SmallVector<double> scales;
  SmallVector<int64_t> zeroPoints;
  /// Shape of the scale and zero-point tensors: {} per tensor, {C} per
  /// axis, the input's rank when blocked.
  SmallVector<int64_t> paramShape;
  std::optional<int64_t> axis;
  int64_t blockSize = 0;
  int64_t requiredOpset = 10;
  std::string why; // what needs requiredOpset, for the remark
};

/// An activation to quantize: Q -> DQ on `tensor`, read by `consumers`.
struct ActivationQDQ {
  std::string tensor;
  QDQParams params;
  llvm::SetVector<int> consumers;
};

/// A quantized constant: integer data replacing the float initializer for
/// `consumers`.
struct ConstantQDQ {
  std::string initializer;
  QDQParams params;
  SmallVector<int64_t> shape;
  std::vector<int64_t> values;
  llvm::SetVector<int> consumers;
};

class QDQExporter {
public:
  QDQExporter(ModuleOp module, onnxp::ModelProto &model, StringRef fileName)
      : module(module), model(model), fileName(fileName.str()) {}

  LogicalResult run();

private:
  LogicalResult checkStage();
  LogicalResult checkSignature();
  LogicalResult collectActivation(quant::QuantizeCastOp qcast);
  LogicalResult collectConstant(quant::StorageCastOp scast);
  LogicalResult findConsumers(Operation *at, Value dequantized,
                              StringRef tensor, llvm::SetVector<int> &nodes);
  FailureOr<QDQParams> getParams(Operation *at, Type type, bool activation);
  LogicalResult checkAgainstInitializer(Operation *at, const ConstantQDQ &c,
                                        const onnxp::TensorProto &init);
  LogicalResult raiseOpset(int64_t required, StringRef why);
  const onnxp::TensorProto *findStoredTensor(StringRef name);
  void rewrite();

  std::string uniqueName(const std::string &base);
  void addParams(const std::string &base, const QDQParams &p,
                 std::string &scale, std::string &zeroPoint);
  onnxp::NodeProto makeNode(StringRef opType, const std::string &name,
                            ArrayRef<std::string> inputs,
                            const std::string &output, const QDQParams &p);

  InFlightDiagnostic modelError() {
    return emitError(FileLineColLoc::get(module.getContext(), fileName, 0, 0));
  }

  ModuleOp module;
  func::FuncOp func;
  onnxp::ModelProto &model;
  std::string fileName;

  llvm::StringMap<int> producer;    // tensor -> index of the node writing it
  llvm::StringMap<int> initializer; // name -> index in graph.initializer
  llvm::StringSet<> graphInputs, usedNames;
  std::vector<ActivationQDQ> activations;
  std::vector<ConstantQDQ> constants;
};
} // namespace

//===----------------------------------------------------------------------===//
// Which stage the module is at
//===----------------------------------------------------------------------===//

LogicalResult QDQExporter::checkStage() {
  const char *stageHelp =
      "; --export-onnx-qdq reads the QDQ form that qopt-legalize writes (run "
      "qopt-import-calibration and qopt-legalize, and print the module with "
      "--mlir-print-debuginfo so that the tensor names survive)";
  Operation *lowered = nullptr, *integer = nullptr, *stats = nullptr;
  module.walk([&](Operation *op) {
    StringRef name = op->getName().getStringRef();
    if (!lowered && op->getDialect() &&
        op->getDialect()->getNamespace() == "llvm")
      lowered = op;
    if (!integer && (isa<RequantizeOp>(op) || name.contains("quantized_") ||
                     (name.starts_with("linalg.conv") && name.ends_with("_q"))))
      integer = op;
    if (!stats && isa<StatsOp>(op))
      stats = op;
  });
  if (lowered)
    return lowered->emitError()
           << "the module is lowered to the LLVM dialect" << stageHelp;
  if (integer)
    return integer->emitError()
           << "the module is already the integer program (after "
              "qopt-quantize-kernels), where quantized tensors no longer "
              "carry their types"
           << stageHelp;
  if (stats)
    return stats->emitError()
           << "the module still carries calibration statistics (qopt.stats): "
              "it has not been quantized"
           << stageHelp;

  SmallVector<func::FuncOp> funcs;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal())
      funcs.push_back(f);
  if (funcs.empty())
    return module.emitError()
           << "the module has no function to export" << stageHelp;
  func = funcs.front();
  if (funcs.size() > 1) {
    auto it = llvm::find_if(funcs, [&](func::FuncOp f) {
      return f.getSymName() == model.graph().name();
    });
    if (it == funcs.end())
      return module.emitError()
             << "the module has " << funcs.size()
             << " functions and none is named after the ONNX graph '"
             << model.graph().name() << "'";
    func = *it;
  }
  bool quantized = false, named = false;
  func.walk([&](Operation *op) {
    quantized |= isa<quant::QuantizeCastOp, quant::StorageCastOp>(op);
    for (Value r : op->getResults())
      named |= !getTensorName(r).empty();
  });
  if (!quantized)
    return func.emitError()
           << "the function holds no quant.qcast and no quantized constant: "
              "it is not in QDQ form (a float model, or the integer program "
              "after qopt-quantize / qopt-lower-quant)"
           << stageHelp;
  if (!named)
    return func.emitError()
           << "no op of @" << func.getSymName()
           << " carries a tensor name in its location; the export places "
              "Q/DQ by the ONNX tensor names (print the module with "
              "--mlir-print-debuginfo)";
  return success();
}

/// The function's arguments and results must be the graph's inputs and
/// outputs, by name: otherwise the module was imported from another model.
LogicalResult QDQExporter::checkSignature() {
  const onnxp::GraphProto &g = model.graph();
  llvm::StringSet<> args, results, outputs;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto name = func.getArgAttrOfType<StringAttr>(i, kNameArgAttr);
    if (!name)
      return func.emitError()
             << "argument " << i << " has no '" << kNameArgAttr
             << "' attribute; the export matches arguments to the ONNX "
                "graph inputs by name (import the model with "
                "qopt-translate --import-onnx)";
    if (!graphInputs.contains(name.getValue()))
      return func.emitError()
             << "argument " << i << " '" << name.getValue()
             << "' is not an input of the ONNX graph in '" << fileName
             << "'; was the module imported from another model?";
    args.insert(name.getValue());
  }
  for (const onnxp::ValueInfoProto &vi : g.input())
    if (!initializer.count(vi.name()) && !args.contains(vi.name()))
      return func.emitError()
             << "the ONNX graph input '" << vi.name()
             << "' is not an argument of @" << func.getSymName()
             << "; was the module imported from another model?";
  for (const onnxp::ValueInfoProto &vi : g.output())
    outputs.insert(vi.name());
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto name = func.getResultAttrOfType<StringAttr>(i, kNameArgAttr);
    if (!name)
      continue;
    if (!outputs.contains(name.getValue()))
      return func.emitError()
             << "result " << i << " '" << name.getValue()
             << "' is not an output of the ONNX graph in '" << fileName
             << "'; was the module imported from another model?";
    results.insert(name.getValue());
  }
  for (const onnxp::ValueInfoProto &vi : g.output())
    if (!results.contains(vi.name()))
      return func.emitError()
             << "the ONNX graph output '" << vi.name()
             << "' is not a result of @" << func.getSymName()
             << "; was the module imported from another model?";
  return success();
}

//===----------------------------------------------------------------------===//
// Quantization parameters
//===----------------------------------------------------------------------===//

static double toDouble(APFloat v) {
  bool lost;
  v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return v.convertToDouble();
}

FailureOr<QDQParams> QDQExporter::getParams(Operation *at, Type type,
                                            bool activation) {
  auto tensorType = cast<RankedTensorType>(type);
  auto q = dyn_cast<quant::QuantizedType>(tensorType.getElementType());
  if (!q)
    return at->emitError() << "expected a quantized element type, got "
                           << tensorType.getElementType();
  QDQParams p;
  p.bits = q.getStorageTypeIntegralWidth();
  p.isSigned = q.isSigned();
  if (!q.getExpressedType().isF32())
    return at->emitError() << "quantized type " << q << " expresses "
                           << q.getExpressedType()
                           << "; ONNX QDQ scales are exported for f32 only";
  switch (p.bits) {
  case 8:
    p.dtype = p.isSigned ? kInt8 : kUInt8;
    break;
  case 16:
    p.dtype = p.isSigned ? kInt16 : kUInt16;
    p.requiredOpset = 21;
    p.why = "16-bit QuantizeLinear/DequantizeLinear";
    break;
  case 4:
    p.dtype = p.isSigned ? kInt4 : kUInt4;
    p.requiredOpset = 21;
    p.why = "int4 QuantizeLinear/DequantizeLinear";
    break;
  case 32:
    if (p.isSigned && !activation) {
      p.dtype = kInt32;
      break;
    }
    [[fallthrough]];
  default:
    return at->emitError()
           << "quantized type " << q << " has no ONNX "
           << (activation ? "QuantizeLinear" : "DequantizeLinear")
           << " form (storage int8, uint8, int16, uint16, int4, uint4"
           << (activation ? "" : ", or int32 for biases") << ")";
  }
  int64_t fullMin = p.isSigned ? -(int64_t(1) << (p.bits - 1)) : 0;
  int64_t fullMax = p.isSigned ? (int64_t(1) << (p.bits - 1)) - 1
                               : (int64_t(1) << p.bits) - 1;
  // Constants are already in range; an activation's QuantizeLinear always
  // saturates to the whole storage range.
  if (activation &&
      (q.getStorageTypeMin() != fullMin || q.getStorageTypeMax() != fullMax))
    return at->emitError()
           << "quantized type " << q << " saturates to ["
           << q.getStorageTypeMin() << ", " << q.getStorageTypeMax()
           << "]; ONNX QuantizeLinear saturates to the whole storage range ["
           << fullMin << ", " << fullMax << "] and cannot express it";

  if (auto u = dyn_cast<quant::UniformQuantizedType>(q)) {
    p.scales = {u.getScale()};
    p.zeroPoints = {u.getZeroPoint()};
  } else if (auto axis = dyn_cast<quant::UniformQuantizedPerAxisType>(q)) {
    p.scales.assign(axis.getScales().begin(), axis.getScales().end());
    p.zeroPoints.assign(axis.getZeroPoints().begin(),
                        axis.getZeroPoints().end());
    p.axis = axis.getQuantizedDimension();
    p.paramShape = {static_cast<int64_t>(p.scales.size())};
    if (p.requiredOpset < 13) {
      p.requiredOpset = 13;
      p.why = "per-axis DequantizeLinear (axis attribute)";
    }
  } else if (auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(q)) {
    DenseElementsAttr scales = sub.getScales();
    auto gridType = cast<ShapedType>(scales.getType());
    ArrayRef<int64_t> grid = gridType.getShape();
    ArrayRef<int64_t> shape = tensorType.getShape();
    if (grid.size() != shape.size())
      return at->emitError() << "sub-channel type " << q
                             << " has a scale grid of another rank than its "
                                "tensor";
    for (int64_t d = 0, e = shape.size(); d < e; ++d) {
      if (grid[d] == shape[d])
        continue;
      if (p.axis)
        return at->emitError()
               << "sub-channel type " << q
               << " has blocks along two dimensions; ONNX DequantizeLinear "
                  "blocks along one axis";
      p.axis = d;
      p.blockSize = (shape[d] + grid[d] - 1) / grid[d];
      if ((shape[d] + p.blockSize - 1) / p.blockSize != grid[d])
        return at->emitError()
               << "sub-channel type " << q << " does not block dimension " << d
               << " evenly";
    }
    if (!p.axis)
      return at->emitError() << "sub-channel type " << q
                             << " has one scale per element; ONNX needs a "
                                "blocked axis";
    for (APFloat s : scales.getValues<APFloat>())
      p.scales.push_back(toDouble(s));
    for (APInt z : sub.getZeroPoints().getValues<APInt>())
      p.zeroPoints.push_back(p.isSigned ? z.getSExtValue() : z.getZExtValue());
    p.paramShape.assign(grid.begin(), grid.end());
    p.requiredOpset = 21;
    p.why = "blocked DequantizeLinear (block_size attribute)";
  } else {
    return at->emitError() << "quantized type " << q
                           << " is not uniform; only uniform types export";
  }
  for (double s : p.scales)
    if (!(s > 0.0) || !std::isfinite(s))
      return at->emitError() << "quantized type " << q
                             << " has a scale that is not positive and finite";
  return p;
}

//===----------------------------------------------------------------------===//
// Collecting what qopt quantized
//===----------------------------------------------------------------------===//

/// The ONNX nodes that read the quantized value `dequantized`: walking
/// forward from its users through ops without an ONNX tensor name (the
/// helpers one node's import creates: pads, reshapes, the re-quantization of
/// a pad), each named op reached is the output of the node that reads it.
LogicalResult QDQExporter::findConsumers(Operation *at, Value dequantized,
                                         StringRef tensor,
                                         llvm::SetVector<int> &nodes) {
  SmallVector<Value> work = {dequantized};
  llvm::DenseSet<Operation *> seen;
  auto self = producer.find(tensor);
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (!seen.insert(user).second)
        continue;
      if (isa<func::ReturnOp>(user))
        return at->emitError()
               << "the function returns the quantized value of '" << tensor
               << "' itself; the export keeps graph outputs as the model "
                  "computes them and cannot place this DequantizeLinear";
      bool named = false;
      for (Value r : user->getResults()) {
        std::string name = getTensorName(r);
        auto it = producer.find(name);
        if (name.empty() || name == tensor || it == producer.end() ||
            (self != producer.end() && it->second == self->second))
          continue;
        named = true;
        nodes.insert(it->second);
        const onnxp::NodeProto &n = model.graph().node(it->second);
        if (!llvm::is_contained(n.input(), tensor))
          return at->emitError()
                 << "the quantized value of '" << tensor << "' reaches node '"
                 << n.name() << "' (" << n.op_type()
                 << "), which does not read '" << tensor
                 << "' in the ONNX model; the export cannot place its "
                    "DequantizeLinear";
      }
      if (!named)
        for (Value r : user->getResults())
          work.push_back(r);
    }
  }
  return success();
}

/// Whether `qcast` re-quantizes, with the same type, the result of an
/// unnamed scale-keeping helper (the pad of a convolution) whose input is
/// already dequantized from that type: it adds nothing to the ONNX graph.
static bool isInternalRequantization(quant::QuantizeCastOp qcast) {
  Operation *def = qcast.getInput().getDefiningOp();
  if (!def || !isScaleKeeping(def))
    return false;
  auto dq = getScaleKeepingInput(def).getDefiningOp<quant::DequantizeCastOp>();
  return dq && getElementTypeOrSelf(dq.getInput().getType()) ==
                   getElementTypeOrSelf(qcast.getResult().getType());
}

LogicalResult QDQExporter::collectActivation(quant::QuantizeCastOp qcast) {
  // Already a QuantizeLinear of the source model (an imported QDQ model).
  if (std::optional<StringRef> own = getLocationName(qcast.getLoc())) {
    auto it = producer.find(*own);
    if (it != producer.end() &&
        model.graph().node(it->second).op_type() == "QuantizeLinear")
      return success();
  }
  Value input = qcast.getInput();
  std::string name = getTensorName(input);
  if (name.empty() || (!producer.count(name) && !graphInputs.contains(name) &&
                       !initializer.count(name))) {
    if (name.empty() && isInternalRequantization(qcast))
      return success();
    if (name.empty())
      return qcast.emitError()
             << "this quant.qcast quantizes a value without a tensor name; "
                "the export places Q/DQ by the ONNX tensor names in the "
                "locations (print the module with --mlir-print-debuginfo)";
    return qcast.emitError()
           << "tensor '" << name << "' is quantized here but is not in the "
           << "ONNX model '" << fileName
           << "' (no node output, graph input or initializer has that name); "
              "was the module imported from another model?";
  }
  FailureOr<QDQParams> params =
      getParams(qcast, qcast.getResult().getType(), /*activation=*/true);
  if (failed(params))
    return failure();
  ActivationQDQ act;
  act.tensor = name;
  act.params = std::move(*params);
  for (Operation *user : qcast.getResult().getUsers()) {
    auto dq = dyn_cast<quant::DequantizeCastOp>(user);
    if (!dq)
      return user->emitError()
             << "reads quantized tensor '" << name
             << "' other than through quant.dcast; the module is not in QDQ "
                "form";
    if (failed(findConsumers(qcast, dq.getResult(), name, act.consumers)))
      return failure();
  }
  if (!act.consumers.empty())
    activations.push_back(std::move(act));
  return success();
}

/// The stored float data of `name`: an initializer, or the `value` of the
/// Constant node that writes it (as exporters such as paddle2onnx store
/// weights).
const onnxp::TensorProto *QDQExporter::findStoredTensor(StringRef name) {
  auto it = initializer.find(name);
  if (it != initializer.end())
    return &model.graph().initializer(it->second);
  auto p = producer.find(name);
  if (p == producer.end())
    return nullptr;
  const onnxp::NodeProto &n = model.graph().node(p->second);
  if (n.op_type() != "Constant" || n.output_size() != 1)
    return nullptr;
  for (const onnxp::AttributeProto &a : n.attribute())
    if (a.name() == "value" && a.has_t())
      return &a.t();
  return nullptr;
}

LogicalResult QDQExporter::collectConstant(quant::StorageCastOp scast) {
  // Only integer data becoming a quantized type (not the reverse cast).
  auto resultType = dyn_cast<RankedTensorType>(scast.getResult().getType());
  if (!resultType || !isa<quant::QuantizedType>(resultType.getElementType()))
    return success();
  auto cst = scast.getInput().getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return success();
  std::string name = getTensorName(cst.getResult());
  if (name.empty())
    return cst.emitError()
           << "this quantized constant has no tensor name; the export "
              "replaces ONNX initializers by name (print the module with "
              "--mlir-print-debuginfo)";
  const onnxp::TensorProto *init = findStoredTensor(name);
  if (!init) {
    if (producer.count(name))
      return cst.emitError()
             << "quantized constant '" << name
             << "' is computed by a node of the ONNX model, not stored as an "
                "initializer or a Constant node's value; the export quantizes "
                "stored weights only";
    return cst.emitError() << "quantized constant '" << name
                           << "' is not an initializer of the ONNX model '"
                           << fileName
                           << "'; was the module imported from another model?";
  }
  // Integer already in the source model (imported QDQ): nothing to add.
  if (init->data_type() != kFloat) {
    if (init->data_type() == kInt8 || init->data_type() == kUInt8 ||
        init->data_type() == kInt32 || init->data_type() == kInt16 ||
        init->data_type() == kUInt16)
      return success();
    return cst.emitError() << "quantized constant '" << name
                           << "' replaces ONNX initializer of type "
                           << typeName(init->data_type())
                           << "; only FLOAT initializers are quantized";
  }
  FailureOr<QDQParams> params =
      getParams(scast, resultType, /*activation=*/false);
  if (failed(params))
    return failure();
  ConstantQDQ c;
  c.initializer = name;
  c.params = std::move(*params);
  c.shape.assign(resultType.getShape().begin(), resultType.getShape().end());
  auto data = dyn_cast<DenseIntElementsAttr>(cst.getValue());
  if (!data)
    return cst.emitError() << "quantized constant '" << name
                           << "' must hold dense integer data";
  c.values.reserve(data.getNumElements());
  for (APInt v : data.getValues<APInt>())
    c.values.push_back(c.params.isSigned ? v.getSExtValue() : v.getZExtValue());
  if (failed(checkAgainstInitializer(cst, c, *init)))
    return failure();
  for (Operation *user : scast.getResult().getUsers()) {
    auto dq = dyn_cast<quant::DequantizeCastOp>(user);
    if (!dq)
      return user->emitError()
             << "reads quantized constant '" << name
             << "' other than through quant.dcast; the module is not in QDQ "
                "form";
    if (failed(findConsumers(cst, dq.getResult(), name, c.consumers)))
      return failure();
  }
  if (!c.consumers.empty())
    constants.push_back(std::move(c));
  return success();
}

/// The module's integer constant must be the initializer quantized, in the
/// initializer's layout: each value dequantizes to within half a step of the
/// float it replaces. A module whose weights were folded (qopt-fold-batchnorm)
/// or relaid out no longer describes the ONNX graph's nodes.
LogicalResult
QDQExporter::checkAgainstInitializer(Operation *at, const ConstantQDQ &c,
                                     const onnxp::TensorProto &init) {
  std::string err;
  FailureOr<HostTensor> host = decodeTensor(init, err);
  if (failed(host))
    return modelError() << "initializer '" << init.name() << "' " << err;
  if (ArrayRef<int64_t>(host->shape) != ArrayRef<int64_t>(c.shape)) {
    InFlightDiagnostic diag = at->emitError();
    diag << "quantized constant '" << c.initializer << "' has shape [";
    llvm::interleave(c.shape, diag, ",");
    diag << "] but the ONNX initializer has [";
    llvm::interleave(host->shape, diag, ",");
    diag << "]; the module changed the layout of this weight after import";
    return diag;
  }
  // Strides of the tensor, to find each element's scale.
  int64_t rank = c.shape.size();
  SmallVector<int64_t> strides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * c.shape[d + 1];
  SmallVector<int64_t> paramStrides(c.params.paramShape.size(), 1);
  for (int64_t d = static_cast<int64_t>(paramStrides.size()) - 2; d >= 0; --d)
    paramStrides[d] = paramStrides[d + 1] * c.params.paramShape[d + 1];
  for (int64_t i = 0, e = c.values.size(); i < e; ++i) {
    int64_t k = 0;
    if (c.params.blockSize) {
      for (int64_t d = 0; d < rank; ++d) {
        int64_t coord = (i / strides[d]) % c.shape[d];
        if (d == *c.params.axis)
          coord /= c.params.blockSize;
        k += coord * paramStrides[d];
      }
    } else if (c.params.axis) {
      k = (i / strides[*c.params.axis]) % c.shape[*c.params.axis];
    }
    double scale = c.params.scales[k];
    double real = scale * double(c.values[i] - c.params.zeroPoints[k]);
    double want = host->getDouble(i);
    if (std::fabs(real - want) >
        0.5 * scale * (1 + 1e-4) + 1e-6 * std::fabs(want))
      return at->emitError()
             << "quantized constant '" << c.initializer
             << "' does not match the ONNX initializer: element " << i
             << " dequantizes to " << real << " but the model holds " << want
             << " (scale " << scale
             << "); the module's weights were changed after import (e.g. by "
                "qopt-fold-batchnorm), so they no longer belong to the ONNX "
                "graph's nodes";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Writing the ONNX graph
//===----------------------------------------------------------------------===//

std::string QDQExporter::uniqueName(const std::string &base) {
  std::string name = base;
  for (int i = 1; usedNames.contains(name); ++i)
    name = base + "_" + std::to_string(i);
  usedNames.insert(name);
  return name;
}

/// Little-endian packed data of `values` as ONNX stores `dtype` (two int4
/// per byte, the first in the low nibble).
static std::string packData(int32_t dtype, unsigned bits,
                            ArrayRef<int64_t> values) {
  std::string raw;
  if (bits == 4) {
    raw.assign((values.size() + 1) / 2, '\0');
    for (size_t i = 0; i < values.size(); ++i)
      raw[i / 2] |= static_cast<char>((values[i] & 0xF) << (4 * (i % 2)));
    return raw;
  }
  size_t bytes = bits / 8;
  raw.resize(values.size() * bytes);
  for (size_t i = 0; i < values.size(); ++i)
    for (size_t b = 0; b < bytes; ++b)
      raw[i * bytes + b] = static_cast<char>((values[i] >> (8 * b)) & 0xFF);
  return raw;
}

static void addTensor(onnxp::GraphProto *g, const std::string &name,
                      int32_t dtype, ArrayRef<int64_t> dims, std::string raw) {
  onnxp::TensorProto *t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(dtype);
  for (int64_t d : dims)
    t->add_dims(d);
  t->set_raw_data(std::move(raw));
}

void QDQExporter::addParams(const std::string &base, const QDQParams &p,
                            std::string &scale, std::string &zeroPoint) {
  onnxp::GraphProto *g = model.mutable_graph();
  scale = uniqueName(base + "_scale");
  zeroPoint = uniqueName(base + "_zero_point");
  std::string scaleRaw(p.scales.size() * sizeof(float), '\0');
  for (size_t i = 0; i < p.scales.size(); ++i) {
    float f = static_cast<float>(p.scales[i]);
    std::memcpy(&scaleRaw[i * sizeof(float)], &f, sizeof(float));
  }
  addTensor(g, scale, kFloat, p.paramShape, std::move(scaleRaw));
  addTensor(g, zeroPoint, p.dtype, p.paramShape,
            packData(p.dtype, p.bits, p.zeroPoints));
}

onnxp::NodeProto QDQExporter::makeNode(StringRef opType,
                                       const std::string &name,
                                       ArrayRef<std::string> inputs,
                                       const std::string &output,
                                       const QDQParams &p) {
  onnxp::NodeProto n;
  n.set_op_type(opType.str());
  n.set_name(name);
  for (const std::string &in : inputs)
    n.add_input(in);
  n.add_output(output);
  if (p.axis) {
    onnxp::AttributeProto *a = n.add_attribute();
    a->set_name("axis");
    a->set_type(onnxp::AttributeProto_AttributeType_INT);
    a->set_i(*p.axis);
  }
  if (p.blockSize) {
    onnxp::AttributeProto *a = n.add_attribute();
    a->set_name("block_size");
    a->set_type(onnxp::AttributeProto_AttributeType_INT);
    a->set_i(p.blockSize);
  }
  return n;
}

/// Opset versions at which an operator's existing attributes or inputs
/// changed meaning (moved to inputs, new defaults), from ONNX's
/// Changelog.md: raising a model's opset across one would change what the
/// node computes. Type-list extensions and new optional attributes are not
/// listed: they keep old models' meaning.
static constexpr std::pair<StringLiteral, int64_t> kMeaningChanges[] = {
    {"Add", 7},
    {"Sub", 7},
    {"Mul", 7},
    {"Div", 7},
    {"Pow", 7},
    {"Gemm", 7},
    {"PRelu", 7},
    {"Equal", 7},
    {"Greater", 7},
    {"Less", 7},
    {"And", 7},
    {"Or", 7},
    {"Xor", 7},
    {"BatchNormalization", 9},
    {"Upsample", 9},
    {"Slice", 10},
    {"TopK", 10},
    {"Upsample", 10},
    {"Clip", 11},
    {"Pad", 11},
    {"Resize", 11},
    {"Dropout", 12},
    {"Squeeze", 13},
    {"Unsqueeze", 13},
    {"Split", 13},
    {"ReduceSum", 13},
    {"Softmax", 13},
    {"LogSoftmax", 13},
    {"Hardmax", 13},
    {"ReduceMean", 18},
    {"ReduceMax", 18},
    {"ReduceMin", 18},
    {"ReduceProd", 18},
    {"ReduceL1", 18},
    {"ReduceL2", 18},
    {"ReduceLogSum", 18},
    {"ReduceLogSumExp", 18},
    {"ReduceSumSquare", 18},
    {"GroupNormalization", 21},
};

LogicalResult QDQExporter::raiseOpset(int64_t required, StringRef why) {
  onnxp::OperatorSetIdProto *entry = nullptr;
  for (onnxp::OperatorSetIdProto &id : *model.mutable_opset_import())
    if (id.domain().empty() || id.domain() == "ai.onnx")
      entry = &id;
  int64_t current = entry ? entry->version() : 1;
  if (current >= required)
    return success();
  for (const onnxp::NodeProto &n : model.graph().node()) {
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      continue;
    for (auto [op, version] : kMeaningChanges)
      if (n.op_type() == op && current < version && version <= required)
        return modelError()
               << "the export needs opset " << required << " (" << why
               << ") but the model is at opset " << current << ", and node '"
               << n.name() << "' (" << n.op_type() << ") changes meaning at "
               << "opset " << version << "; convert the model to opset "
               << required
               << " or later first (onnx.version_converter), then import it "
                  "and quantize it again";
  }
  if (!entry) {
    entry = model.add_opset_import();
    entry->set_domain("");
  }
  entry->set_version(required);
  // The IR version each opset was released with (ONNX's Versioning.md).
  int64_t ir = required <= 10   ? 5
               : required <= 11 ? 6
               : required <= 14 ? 7
               : required <= 18 ? 8
               : required <= 20 ? 9
                                : 10;
  if (model.ir_version() < ir)
    model.set_ir_version(ir);
  emitRemark(module.getLoc())
      << "raised the model's default-domain (ai.onnx) opset from " << current
      << " to " << required << " for " << why;
  return success();
}

void QDQExporter::rewrite() {
  onnxp::GraphProto *g = model.mutable_graph();
  // Per node: which input tensor it reads the dequantized value from.
  std::map<std::pair<int, std::string>, std::string> rewired;
  std::vector<onnxp::NodeProto> head;                 // before every node
  std::map<int, std::vector<onnxp::NodeProto>> after; // after node i

  for (const ConstantQDQ &c : constants) {
    std::string data = uniqueName(c.initializer + "_quantized");
    addTensor(g, data, c.params.dtype, c.shape,
              packData(c.params.dtype, c.params.bits, c.values));
    std::string scale, zp;
    addParams(c.initializer, c.params, scale, zp);
    std::string out = uniqueName(c.initializer + "_DequantizeLinear_Output");
    head.push_back(makeNode("DequantizeLinear",
                            uniqueName(c.initializer + "_DequantizeLinear"),
                            {data, scale, zp}, out, c.params));
    for (int node : c.consumers)
      rewired[{node, c.initializer}] = out;
  }
  for (const ActivationQDQ &a : activations) {
    std::string scale, zp;
    addParams(a.tensor, a.params, scale, zp);
    std::string q = uniqueName(a.tensor + "_QuantizeLinear_Output");
    std::string dq = uniqueName(a.tensor + "_DequantizeLinear_Output");
    QDQParams noBlock = a.params;
    noBlock.blockSize = 0;
    onnxp::NodeProto qn =
        makeNode("QuantizeLinear", uniqueName(a.tensor + "_QuantizeLinear"),
                 {a.tensor, scale, zp}, q, noBlock);
    onnxp::NodeProto dqn =
        makeNode("DequantizeLinear", uniqueName(a.tensor + "_DequantizeLinear"),
                 {q, scale, zp}, dq, noBlock);
    auto it = producer.find(a.tensor);
    std::vector<onnxp::NodeProto> &where =
        it == producer.end() ? head : after[it->second];
    where.push_back(std::move(qn));
    where.push_back(std::move(dqn));
    for (int node : a.consumers)
      rewired[{node, a.tensor}] = dq;
  }

  std::vector<onnxp::NodeProto> nodes(head.begin(), head.end());
  for (int i = 0, e = g->node_size(); i < e; ++i) {
    onnxp::NodeProto n = g->node(i);
    for (int k = 0; k < n.input_size(); ++k) {
      auto it = rewired.find({i, n.input(k)});
      if (it != rewired.end())
        n.set_input(k, it->second);
    }
    nodes.push_back(std::move(n));
    auto more = after.find(i);
    if (more != after.end())
      nodes.insert(nodes.end(), more->second.begin(), more->second.end());
  }
  // Float weights that nothing reads any more (their consumers read the
  // quantized copy) are dropped, initializers and Constant nodes alike,
  // unless the graph lists them as inputs or outputs.
  llvm::StringSet<> read;
  for (const onnxp::NodeProto &n : nodes)
    for (const std::string &in : n.input())
      read.insert(in);
  for (const onnxp::ValueInfoProto &vi : g->input())
    read.insert(vi.name());
  for (const onnxp::ValueInfoProto &vi : g->output())
    read.insert(vi.name());
  llvm::StringSet<> quantized;
  for (const ConstantQDQ &c : constants)
    quantized.insert(c.initializer);
  g->clear_node();
  for (onnxp::NodeProto &n : nodes) {
    if (n.op_type() == "Constant" && n.output_size() == 1 &&
        quantized.contains(n.output(0)) && !read.contains(n.output(0)))
      continue;
    *g->add_node() = std::move(n);
  }
  auto *inits = g->mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i)
    if (quantized.contains(inits->Get(i).name()) &&
        !read.contains(inits->Get(i).name()))
      inits->DeleteSubrange(i, 1);
}

LogicalResult QDQExporter::run() {
  const onnxp::GraphProto &g = model.graph();
  for (auto [i, n] : llvm::enumerate(g.node())) {
    for (const std::string &out : n.output())
      if (!out.empty())
        producer[out] = i;
    usedNames.insert(n.name());
    for (const std::string &in : n.input())
      usedNames.insert(in);
    for (const std::string &out : n.output())
      usedNames.insert(out);
  }
  for (auto [i, t] : llvm::enumerate(g.initializer())) {
    initializer[t.name()] = i;
    usedNames.insert(t.name());
  }
  for (const onnxp::ValueInfoProto &vi : g.input()) {
    graphInputs.insert(vi.name());
    usedNames.insert(vi.name());
  }
  for (const onnxp::ValueInfoProto &vi : g.output())
    usedNames.insert(vi.name());

  if (failed(checkStage()) || failed(checkSignature()))
    return failure();
  WalkResult walk = func.walk([&](Operation *op) {
    LogicalResult r = success();
    if (auto qcast = dyn_cast<quant::QuantizeCastOp>(op))
      r = collectActivation(qcast);
    else if (auto scast = dyn_cast<quant::StorageCastOp>(op))
      r = collectConstant(scast);
    return failed(r) ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  int64_t required = 0;
  std::string why;
  auto need = [&](const QDQParams &p) {
    if (p.requiredOpset > required) {
      required = p.requiredOpset;
      why = p.why.empty() ? "QuantizeLinear/DequantizeLinear" : p.why;
    }
  };
  for (const ActivationQDQ &a : activations)
    need(a.params);
  for (const ConstantQDQ &c : constants)
    need(c.params);
  if (failed(raiseOpset(required, why)))
    return failure();
  rewrite();
  return success();
}

//===----------------------------------------------------------------------===//
// Public API
//===----------------------------------------------------------------------===//

LogicalResult mlir::qopt::exportONNXQDQ(ModuleOp module,
                                        llvm::MemoryBufferRef onnxModel,
                                        llvm::raw_ostream &os) {
  MLIRContext *ctx = module.getContext();
  StringRef file = onnxModel.getBufferIdentifier();
  onnxp::ModelProto model;
  StringRef data = onnxModel.getBuffer();
  if (data.size() > (size_t)std::numeric_limits<int>::max() ||
      !model.ParseFromArray(data.data(), static_cast<int>(data.size())) ||
      !model.has_graph())
    return emitError(FileLineColLoc::get(ctx, file, 0, 0))
           << "not a valid ONNX model (the protobuf does not parse or has no "
              "graph; truncated or not an .onnx file?)";
  QDQExporter exporter(module, model, file);
  if (failed(exporter.run()))
    return failure();
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return emitError(FileLineColLoc::get(ctx, file, 0, 0))
           << "cannot serialize the exported model";
  os << bytes;
  return success();
}

void mlir::qopt::registerExportONNXQDQTranslation() {
  static llvm::cl::opt<std::string> onnxModel(
      "onnx-model",
      llvm::cl::desc("--export-onnx-qdq: the ONNX model the module was "
                     "imported from; it is written with the module's "
                     "quantization"),
      llvm::cl::value_desc("FILE"), llvm::cl::init(""));
  TranslateFromMLIRRegistration reg(
      "export-onnx-qdq",
      "Write the ONNX model given by --onnx-model with the module's "
      "quantization as QuantizeLinear/DequantizeLinear (module in QDQ form, "
      "after qopt-legalize)",
      [](Operation *op, llvm::raw_ostream &os) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError() << "expected a builtin.module";
        if (onnxModel.empty())
          return module.emitError()
                 << "--export-onnx-qdq needs --onnx-model FILE: the ONNX "
                    "model this module was imported from";
        auto buffer = llvm::MemoryBuffer::getFile(onnxModel, /*IsText=*/false);
        if (!buffer)
          return emitError(
                     FileLineColLoc::get(op->getContext(), onnxModel, 0, 0))
                 << "cannot open the ONNX model: "
                 << buffer.getError().message();
        return exportONNXQDQ(module, (*buffer)->getMemBufferRef(), os);
      },
      [](DialectRegistry &registry) {
        registerONNXImportDialects(registry);
        registry.insert<QOptDialect, LLVM::LLVMDialect>();
      });
}
