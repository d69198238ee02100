//===- WeightQuant.cpp - Compile-time weight quantization -------*- C++ -*-===//
//
// Implements quantizeWeights: find each block's range, choose its
// parameters, quantize every element with the block's parameters.
//
//===----------------------------------------------------------------------===//

#include "qopt/Quant/WeightQuant.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qopt;

std::vector<double> mlir::qopt::defaultClipRatios() {
  std::vector<double> ratios;
  for (int i = 20; i >= 10; --i)
    ratios.push_back(i / 20.0);
  return ratios;
}

double mlir::qopt::roundScaleToF32(double scale) {
  return static_cast<double>(static_cast<float>(scale));
}

llvm::Expected<QuantizedWeights>
mlir::qopt::quantizeWeights(llvm::ArrayRef<float> data,
                            llvm::ArrayRef<int64_t> shape,
                            const WeightQuantSpec &spec) {
  if (llvm::Error err = spec.storage.verify())
    return std::move(err);
  int64_t rank = shape.size();
  int64_t numElements = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return llvm::createStringError("weight shape has a negative dimension");
    numElements *= dim;
  }
  if (static_cast<int64_t>(data.size()) != numElements)
    return llvm::createStringError(
        llvm::formatv("weight has {0} values but its shape holds {1}",
                      data.size(), numElements)
            .str());

  // The parameter grid: full size along the channel axis, size/groupSize
  // along the group axis, 1 elsewhere.
  llvm::SmallVector<int64_t> grid(rank, 1);
  if (spec.channelAxis) {
    if (*spec.channelAxis < 0 || *spec.channelAxis >= rank)
      return llvm::createStringError(
          llvm::formatv("channel axis {0} is out of range for rank {1}",
                        *spec.channelAxis, rank)
              .str());
    grid[*spec.channelAxis] = shape[*spec.channelAxis];
  }
  if (spec.groupAxis) {
    int64_t axis = *spec.groupAxis;
    if (axis < 0 || axis >= rank ||
        (spec.channelAxis && axis == *spec.channelAxis))
      return llvm::createStringError(
          llvm::formatv("group axis {0} is out of range for rank {1} or equals "
                        "the channel axis",
                        axis, rank)
              .str());
    if (spec.groupSize <= 0 || shape[axis] % spec.groupSize != 0)
      return llvm::createStringError(
          llvm::formatv("group size {0} does not divide dimension {1} of size "
                        "{2}",
                        spec.groupSize, axis, shape[axis])
              .str());
    grid[axis] = shape[axis] / spec.groupSize;
  }

  // Row-major strides of the data and of the grid.
  llvm::SmallVector<int64_t> strides(rank, 1), gridStrides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d) {
    strides[d] = strides[d + 1] * shape[d + 1];
    gridStrides[d] = gridStrides[d + 1] * grid[d + 1];
  }
  int64_t numBlocks = 1;
  for (int64_t g : grid)
    numBlocks *= g;

  auto blockOf = [&](int64_t linear) {
    int64_t block = 0;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t index = (linear / strides[d]) % shape[d];
      int64_t gridIndex = 0;
      if (grid[d] == shape[d])
        gridIndex = index;
      else if (grid[d] != 1)
        gridIndex = index / spec.groupSize;
      block += gridIndex * gridStrides[d];
    }
    return block;
  };

  std::vector<double> lo(numBlocks, std::numeric_limits<double>::infinity());
  std::vector<double> hi(numBlocks, -std::numeric_limits<double>::infinity());
  std::vector<int64_t> blockIndex(numElements);
  for (int64_t i = 0; i < numElements; ++i) {
    float v = data[i];
    if (!std::isfinite(v))
      return llvm::createStringError(
          llvm::formatv("weight element {0} is not finite ({1})", i, v).str());
    int64_t b = blockOf(i);
    blockIndex[i] = b;
    lo[b] = std::min(lo[b], static_cast<double>(v));
    hi[b] = std::max(hi[b], static_cast<double>(v));
  }

  // Clipping search: the elements of each block, to measure each candidate.
  std::vector<std::vector<int64_t>> members;
  if (!spec.clipRatios.empty()) {
    for (double r : spec.clipRatios)
      if (!(r > 0.0 && r <= 1.0))
        return llvm::createStringError(
            llvm::formatv("clip ratio {0} is outside (0, 1]", r).str());
    members.resize(numBlocks);
    for (int64_t i = 0; i < numElements; ++i)
      members[blockIndex[i]].push_back(i);
  }

  QuantizedWeights result;
  if (spec.channelAxis || spec.groupAxis)
    result.paramShape.assign(grid.begin(), grid.end());
  std::vector<QuantParams> params;
  params.reserve(numBlocks);
  for (int64_t b = 0; b < numBlocks; ++b) {
    // An empty block (a zero-sized dimension) has no values to choose from.
    double rmin = numElements ? lo[b] : 0.0, rmax = numElements ? hi[b] : 0.0;
    std::optional<QuantParams> best;
    double bestError = std::numeric_limits<double>::infinity();
    llvm::ArrayRef<double> ratios = spec.clipRatios;
    double one = 1.0;
    if (ratios.empty())
      ratios = llvm::ArrayRef<double>(one);
    for (double r : ratios) {
      llvm::Expected<QuantParams> p =
          chooseQuantParams(r * rmin, r * rmax, spec.storage);
      if (!p)
        return p.takeError();
      p->scale = roundScaleToF32(p->scale);
      if (ratios.size() == 1) {
        best = *p;
        break;
      }
      double error = 0.0;
      for (int64_t i : members[b]) {
        double d = dequantize(quantize(data[i], *p), *p) - data[i];
        error += d * d;
      }
      if (error < bestError) {
        bestError = error;
        best = *p;
      }
    }
    params.push_back(*best);
    result.scales.push_back(best->scale);
    result.zeroPoints.push_back(best->zeroPoint);
  }
  result.values.resize(numElements);
  for (int64_t i = 0; i < numElements; ++i)
    result.values[i] = quantize(data[i], params[blockIndex[i]]);
  return result;
}
