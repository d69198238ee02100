//===- TpuMlirReader.cpp - Reader for TPU-MLIR calibration tables ---------===//
//
// Reads the calibration table of sophgo's TPU-MLIR (run_calibration.py writes
// it, the ImportCalibrationTable pass reads it):
//
//   # genetated time: 2022-08-11 10:00:59.743675
//   # histogram number: 2048
//   ###
//   # op_name    threshold    min    max
//   images 1.0000080 0.0000000 1.0000080
//   122_Conv 56.4281803 -102.5830231 97.6811752
//   #int4_th
//   122_Conv 7.25 -102.58 97.68
//   #weight_scale
//   122_Conv_weight 3 0.01 0.02 0.015
//
// Sections follow TPU-MLIR's importer: a '#' line containing "#int4_th",
// "#weight_scale", "#tpu-mlir-fp8"/"mqbench-fp8", "asym_op" or "int4_op"
// starts that section; any other '#' line is a comment that returns to the
// int8 rows. Rows are "name threshold min max": min/max are kept as the
// range, and the threshold becomes TPU-MLIR's symmetric scale
// threshold / (2^(bits-1) - 1) (bits 8, or 4 in #int4_th). #weight_scale rows
// are "name N s1..sN [M zp1..zpM]", per-channel scales (axis 0) with an
// optional zero point list. fp8 rows keep min/max only; asym_op/int4_op list
// op names, which are not statistics, and are skipped. A name in both the
// int8 and #int4_th sections keeps its int8 row, as the importer does for
// int8 ops.
//
//===----------------------------------------------------------------------===//

#include "CalibrationInternal.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

using namespace llvm;

namespace mlir::qopt::detail {

namespace {
enum class Section { Int8, Int4, WeightScale, Fp8, OpList };

Section sectionOf(StringRef comment, Section current) {
  if (comment.contains("#weight_scale"))
    return Section::WeightScale;
  if (comment.contains("#int4_th"))
    return Section::Int4;
  if (comment.contains("#tpu-mlir-fp8") || comment.contains("mqbench-fp8"))
    return Section::Fp8;
  if (comment.contains("asym_op") || comment.contains("int4_op"))
    return Section::OpList;
  return Section::Int8;
}

StringRef sectionName(Section section) {
  switch (section) {
  case Section::Int8:
    return "int8";
  case Section::Int4:
    return "#int4_th";
  case Section::WeightScale:
    return "#weight_scale";
  case Section::Fp8:
    return "fp8";
  case Section::OpList:
    return "op list";
  }
  return "";
}
} // namespace

Expected<CalibrationTable> parseTpuMlir(StringRef contents,
                                        StringRef fileName) {
  CalibrationTable table;
  table.format = CalibrationFormat::TpuMlir;
  Section section = Section::Int8;
  // name -> (index in table.tensors, section it came from).
  StringMap<std::pair<size_t, Section>> position;
  StringMap<unsigned> linesBySection[5];
  std::vector<StringRef> lines = splitLines(contents);

  for (size_t i = 0, e = lines.size(); i != e; ++i) {
    unsigned lineNo = i + 1;
    StringRef line = lines[i].trim();
    if (line.empty())
      continue;
    if (line.starts_with("#")) {
      section = sectionOf(line, section);
      StringRef comment = line.drop_while([](char c) { return c == '#'; });
      comment = comment.trim();
      if (table.producer.empty() && comment.consume_front("mlir version:"))
        table.producer = ("tpu-mlir " + comment.trim()).str();
      continue;
    }
    if (section == Section::OpList)
      continue;

    SmallVector<StringRef, 16> fields;
    line.split(fields, ' ', -1, /*KeepEmpty=*/false);
    // Tabs separate fields too.
    SmallVector<StringRef, 16> split;
    for (StringRef field : fields) {
      SmallVector<StringRef, 4> parts;
      field.split(parts, '\t', -1, /*KeepEmpty=*/false);
      split.append(parts.begin(), parts.end());
    }
    fields = std::move(split);
    StringRef name = fields.front();

    auto numberAt = [&](size_t index, StringRef what, double &value) -> Error {
      if (!parseDouble(fields[index], value))
        return makeError(fileName, lineNo,
                         "tensor " + quote(name) + ": " + what + " '" +
                             fields[index].take_front(40) +
                             "' is not a number");
      if (!std::isfinite(value))
        return makeError(fileName, lineNo,
                         "tensor " + quote(name) + ": " + what +
                             " is not finite (" + formatDouble(value) + ")");
      return Error::success();
    };

    TensorStats stats;
    stats.name = name.str();
    stats.line = lineNo;
    if (section == Section::WeightScale) {
      // name N s1..sN [M zp1..zpM]
      int64_t count = 0;
      if (fields.size() < 2 || fields[1].getAsInteger(10, count) ||
          count <= 0 || static_cast<size_t>(count) > fields.size() - 2)
        return makeError(fileName, lineNo,
                         "tensor " + quote(name) +
                             ": expected 'name N scale1 .. scaleN' in "
                             "#weight_scale");
      for (int64_t k = 0; k < count; ++k) {
        double scale;
        if (Error error = numberAt(2 + k, "scale", scale))
          return std::move(error);
        stats.scale.push_back(scale);
      }
      size_t next = 2 + count;
      if (next < fields.size()) {
        int64_t zpCount = 0;
        if (fields[next].getAsInteger(10, zpCount) || zpCount != count ||
            fields.size() != next + 1 + zpCount)
          return makeError(fileName, lineNo,
                           "tensor " + quote(name) + ": expected " +
                               Twine(count) +
                               " zero points after the scales, as 'M zp1 .. "
                               "zpM' with M = " +
                               Twine(count));
        for (int64_t k = 0; k < zpCount; ++k) {
          int64_t zp;
          if (fields[next + 1 + k].getAsInteger(10, zp))
            return makeError(fileName, lineNo,
                             "tensor " + quote(name) + ": zero point '" +
                                 fields[next + 1 + k].take_front(40) +
                                 "' is not an integer");
          stats.zeroPoint.push_back(zp);
        }
      } else {
        stats.zeroPoint.assign(count, 0);
      }
      // Weights are int8 on TPU-MLIR: [-128, 127] around the zero point.
      stats.axis = 0;
      stats.bits = 8;
      for (size_t k = 0, n = stats.scale.size(); k != n; ++k) {
        double zp = static_cast<double>(stats.zeroPoint[k]);
        stats.min.push_back(stats.scale[k] * (-128 - zp));
        stats.max.push_back(stats.scale[k] * (127 - zp));
      }
    } else {
      if (fields.size() != 4)
        return makeError(fileName, lineNo,
                         "expected 'name threshold min max' in the " +
                             sectionName(section) + " section, found " +
                             Twine(fields.size()) + " fields");
      double threshold, lo, hi;
      if (Error error = numberAt(1, "threshold", threshold))
        return std::move(error);
      if (Error error = numberAt(2, "min", lo))
        return std::move(error);
      if (Error error = numberAt(3, "max", hi))
        return std::move(error);
      if (threshold < 0)
        return makeError(fileName, lineNo,
                         "tensor " + quote(name) + ": threshold (" +
                             formatDouble(threshold) + ") is negative");
      stats.min = {lo};
      stats.max = {hi};
      if (section != Section::Fp8) {
        unsigned bits = section == Section::Int4 ? 4 : 8;
        stats.bits = bits;
        // A zero threshold (a tensor that was always 0) gives no scale.
        if (threshold > 0) {
          stats.scale = {threshold / (std::ldexp(1.0, bits - 1) - 1)};
          stats.zeroPoint = {0};
          stats.symmetric = true;
        }
      }
    }

    // Repeats within a section are errors; across the int8 and #int4_th
    // sections, TPU-MLIR keeps both and uses the int4 row only inside int4
    // ops, so qopt keeps the int8 row.
    auto [first, inserted] =
        linesBySection[static_cast<int>(section)].try_emplace(stats.name,
                                                              lineNo);
    if (!inserted)
      return makeError(fileName, lineNo,
                       "duplicate tensor name " + quote(stats.name) +
                           " (first defined on line " + Twine(first->second) +
                           ")");
    auto it = position.find(stats.name);
    if (it != position.end()) {
      Section other = it->second.second;
      if (other == Section::Int8 && section == Section::Int4)
        continue;
      if (other == Section::Int4 && section == Section::Int8) {
        table.tensors[it->second.first] = std::move(stats);
        it->second.second = Section::Int8;
        continue;
      }
      // Any other repeat is reported by validation with both lines.
    } else {
      position.try_emplace(stats.name, table.tensors.size(), section);
    }
    table.tensors.push_back(std::move(stats));
  }
  return table;
}

} // namespace mlir::qopt::detail
