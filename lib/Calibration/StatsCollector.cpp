//===- StatsCollector.cpp - streaming calibration statistics --------------===//
//
// Implements StatsCollector.h. The histogram binning is numpy.histogram's
// for equal bins (the index from (x - lo) * n / (hi - lo), then corrected
// against the edges lo + i * (hi - lo) / n so that a value on an edge goes
// to the bin it starts; the upper limit belongs to the last bin), because
// ONNX Runtime's collector is written with it.
//
//===----------------------------------------------------------------------===//

#include "qopt/Calibration/StatsCollector.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::qopt;

void SymmetricHistogram::histogram(llvm::ArrayRef<double> values, double t,
                                   size_t n, std::vector<int64_t> &into,
                                   size_t offset) {
  double lo = -t, hi = t;
  double norm = double(n) / (hi - lo);
  double step = (hi - lo) / double(n);
  auto edge = [&](size_t i) { return i == n ? hi : lo + double(i) * step; };
  for (double x : values) {
    if (!(x >= lo && x <= hi))
      continue;
    auto i = static_cast<int64_t>((x - lo) * norm);
    if (i >= int64_t(n))
      i = n - 1;
    if (i > 0 && x < edge(i))
      --i;
    else if (i + 1 < int64_t(n) && x >= edge(i + 1))
      ++i;
    ++into[offset + i];
  }
}

void SymmetricHistogram::mergePairs() {
  while (hist.size() > maxBins) {
    // The count is even (the first is, growth adds pairs); keep the merged
    // count even too, so the range stays symmetric: when half of it would be
    // odd, first add one empty bin on each side.
    double width = 2 * limit / double(hist.size());
    if (hist.size() % 4 != 0) {
      hist.insert(hist.begin(), 0);
      hist.push_back(0);
      limit += width;
    }
    std::vector<int64_t> merged(hist.size() / 2);
    for (size_t i = 0; i < merged.size(); ++i)
      merged[i] = hist[2 * i] + hist[2 * i + 1];
    hist = std::move(merged);
  }
}

void SymmetricHistogram::add(llvm::ArrayRef<double> values) {
  if (values.empty())
    return;
  double t = 0;
  for (double x : values)
    t = std::max(t, std::fabs(x));
  if (limit == 0) {
    if (t == 0) {
      // numpy widens an empty range to [-0.5, 0.5]: every 0 lands in the
      // middle bin, which stays the bin starting at 0 once a range exists.
      zeros += values.size();
      return;
    }
    limit = t;
    hist.assign(initialBins, 0);
    histogram(values, limit, hist.size(), hist, 0);
    hist[hist.size() / 2] += zeros;
    zeros = 0;
    mergePairs();
    return;
  }
  if (t <= limit) {
    histogram(values, limit, hist.size(), hist, 0);
    return;
  }
  size_t n = hist.size();
  double width = 2 * limit / double(n);
  auto k = static_cast<size_t>(std::floor((t - limit) / width) + 1);
  std::vector<int64_t> grown(n + 2 * k, 0);
  limit = double(k) * width + limit;
  histogram(values, limit, grown.size(), grown, 0);
  for (size_t i = 0; i < n; ++i)
    grown[k + i] += hist[i];
  hist = std::move(grown);
  mergePairs();
}

TensorStatsCollector::TensorStatsCollector(std::string name,
                                           std::optional<int64_t> axis,
                                           unsigned histogramBins,
                                           unsigned maxBins)
    : tensorName(std::move(name)), axis(axis) {
  if (!axis && histogramBins > 0)
    hist.emplace(histogramBins, maxBins);
}

void TensorStatsCollector::add(llvm::ArrayRef<double> values,
                               llvm::ArrayRef<int64_t> shape) {
  if (!axis) {
    if (mins.empty()) {
      mins.assign(1, INFINITY);
      maxs.assign(1, -INFINITY);
    }
    for (double x : values) {
      mins[0] = std::min(mins[0], x);
      maxs[0] = std::max(maxs[0], x);
    }
    if (hist)
      hist->add(values);
    return;
  }
  int64_t channels = shape[*axis], inner = 1;
  for (size_t k = *axis + 1; k < shape.size(); ++k)
    inner *= shape[k];
  if (mins.empty()) {
    mins.assign(channels, INFINITY);
    maxs.assign(channels, -INFINITY);
  }
  for (size_t i = 0; i < values.size(); ++i) {
    int64_t c = (static_cast<int64_t>(i) / inner) % channels;
    mins[c] = std::min(mins[c], values[i]);
    maxs[c] = std::max(maxs[c], values[i]);
  }
}

TensorStats TensorStatsCollector::finish() const {
  TensorStats stats;
  stats.name = tensorName;
  stats.axis = axis;
  stats.min = mins;
  stats.max = maxs;
  // A tensor with no elements: an empty range at 0.
  for (size_t i = 0; i < stats.min.size(); ++i)
    if (stats.min[i] > stats.max[i])
      stats.min[i] = stats.max[i] = 0;
  if (hist && hist->threshold() > 0) {
    Histogram h;
    h.min = -hist->threshold();
    h.max = hist->threshold();
    h.counts = hist->counts();
    stats.histogram = std::move(h);
  }
  return stats;
}
