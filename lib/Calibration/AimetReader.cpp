//===- AimetReader.cpp - Reader for AIMET encoding files ------------------===//
//
// Reads the encodings JSON that AIMET's QuantizationSimModel.export writes
// (AIMET's "Encoding Format Specification"):
//
// * versions up to 0.6.1: "activation_encodings" and "param_encodings" map a
//   tensor name to a list of encodings, one per channel:
//     {"bitwidth": 8, "dtype": "int", "is_symmetric": "False",
//      "min": -2.1, "max": 2.6, "offset": -114, "scale": 0.0185}
// * version 1.0.0: both sections are lists of
//     {"name": ..., "dtype": "INT", "enc_type": "PER_TENSOR" | "PER_CHANNEL"
//      | "PER_BLOCK", "is_sym": true, "bw": 8, "scale": [...],
//      "offset": [...], "block_size": 32}
//
// AIMET dequantizes as real = scale * (q + offset) with q in [0, 2^bw - 1],
// so qopt's zero point is -offset on that unsigned grid, and the range is
// [scale * offset, scale * (2^bw - 1 + offset)] when the file gives no
// min/max. The scales are kept as given ("exact parameters"). AIMET does not
// record the channel axis; qopt assumes axis 0 (output channels), which is
// what AIMET uses for Conv and Linear weights, unless a 1.0.0 entry has an
// "axis" (as QAIRT's quantization overrides allow). Floating-point encodings
// (dtype "float") carry no range and are skipped.
//
//===----------------------------------------------------------------------===//

#include "CalibrationInternal.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <tuple>

using namespace llvm;

namespace mlir::qopt::detail {

namespace {
class AimetReader {
public:
  AimetReader(StringRef contents, StringRef fileName)
      : contents(contents), json(fileName, contents) {}

  Expected<CalibrationTable> read();

private:
  /// Reads one section; appends to `out`.
  Error readLegacySection(const json::Object &section, StringRef path,
                          std::vector<TensorStats> &out);
  Error readListSection(const json::Array &section, StringRef path,
                        std::vector<TensorStats> &out);
  /// Legacy: one tensor's list of per-channel encodings. Sets `skip` for
  /// float encodings.
  Expected<TensorStats> readLegacyTensor(StringRef name,
                                         const json::Value &value,
                                         StringRef path, bool &skip);
  Expected<TensorStats> readListEntry(const json::Value &value, StringRef path,
                                      bool &skip);
  /// "True"/"False" (legacy strings) or a JSON boolean.
  Expected<bool> readFlag(const json::Value &value, StringRef path);
  Expected<unsigned> readBits(const json::Value &value, StringRef path);
  Expected<int64_t> readOffset(const json::Value &value, StringRef path);

  StringRef contents;
  JsonReader json;
};
} // namespace

Expected<bool> AimetReader::readFlag(const json::Value &value, StringRef path) {
  if (std::optional<bool> flag = value.getAsBoolean())
    return *flag;
  if (std::optional<StringRef> text = value.getAsString()) {
    if (text->equals_insensitive("true"))
      return true;
    if (text->equals_insensitive("false"))
      return false;
  }
  return json.error(path, "expected \"True\", \"False\" or a boolean, got " +
                              describeJson(value));
}

Expected<unsigned> AimetReader::readBits(const json::Value &value,
                                         StringRef path) {
  Expected<int64_t> bits = json.getInteger(value, path);
  if (!bits)
    return bits.takeError();
  if (*bits < 1 || *bits > 32)
    return json.error(path, "bit width " + Twine(*bits) +
                                " is out of range (1 to 32)");
  return static_cast<unsigned>(*bits);
}

Expected<int64_t> AimetReader::readOffset(const json::Value &value,
                                          StringRef path) {
  // Offsets are integers, often written as floats (-128.0).
  Expected<int64_t> offset = json.getInteger(value, path);
  if (!offset)
    return offset.takeError();
  if (*offset < -(int64_t(1) << 32) || *offset > (int64_t(1) << 32))
    return json.error(path, "offset " + Twine(*offset) + " is out of range");
  return *offset;
}

/// The range of an encoding that gives only scale and offset.
static void deriveRange(TensorStats &stats) {
  double qmax = std::ldexp(1.0, static_cast<int>(*stats.bits)) - 1;
  stats.min.clear();
  stats.max.clear();
  for (size_t i = 0, e = stats.scale.size(); i != e; ++i) {
    double offset = -static_cast<double>(stats.zeroPoint[i]);
    // "+ 0.0" turns the -0.0 of a zero offset into 0.0.
    stats.min.push_back(stats.scale[i] * offset + 0.0);
    stats.max.push_back(stats.scale[i] * (qmax + offset) + 0.0);
  }
}

Expected<TensorStats> AimetReader::readLegacyTensor(StringRef name,
                                                    const json::Value &value,
                                                    StringRef path,
                                                    bool &skip) {
  TensorStats stats;
  stats.name = name.str();
  stats.line = json.lineOf(path);
  skip = false;
  // Some writers give a single encoding object instead of a list.
  json::Array single;
  const json::Array *encodings = value.getAsArray();
  if (!encodings) {
    if (!value.getAsObject())
      return json.error(path, "expected a list of encodings, got " +
                                  describeJson(value));
    single.push_back(value);
    encodings = &single;
  }
  if (encodings->empty())
    return json.error(path, "the list of encodings is empty");

  for (size_t i = 0, e = encodings->size(); i != e; ++i) {
    std::string encPath = value.getAsArray() ? element(path, i) : path.str();
    Expected<const json::Object *> enc =
        json.getObject((*encodings)[i], encPath);
    if (!enc)
      return enc.takeError();
    if (const json::Value *dtype = (*enc)->get("dtype")) {
      Expected<StringRef> text =
          json.getString(*dtype, member(encPath, "dtype"));
      if (!text)
        return text.takeError();
      if (text->equals_insensitive("float")) {
        skip = true;
        return stats;
      }
      if (!text->equals_insensitive("int"))
        return json.error(member(encPath, "dtype"), "unknown dtype '" + *text +
                                                        "' (expected int or "
                                                        "float)");
    }
    for (StringRef key : {"bitwidth", "min", "max", "scale", "offset"})
      if (!(*enc)->get(key))
        return json.error(encPath, "missing \"" + key + "\"");

    Expected<unsigned> bits =
        readBits(*(*enc)->get("bitwidth"), member(encPath, "bitwidth"));
    if (!bits)
      return bits.takeError();
    if (stats.bits && *stats.bits != *bits)
      return json.error(member(encPath, "bitwidth"),
                        "channels disagree on the bit width (" +
                            Twine(*stats.bits) + " and " + Twine(*bits) + ")");
    stats.bits = *bits;
    if (const json::Value *sym = (*enc)->get("is_symmetric")) {
      Expected<bool> flag = readFlag(*sym, member(encPath, "is_symmetric"));
      if (!flag)
        return flag.takeError();
      if (stats.symmetric && *stats.symmetric != *flag)
        return json.error(member(encPath, "is_symmetric"),
                          "channels disagree on is_symmetric");
      stats.symmetric = *flag;
    }
    Expected<double> lo =
        json.getNumber(*(*enc)->get("min"), member(encPath, "min"));
    if (!lo)
      return lo.takeError();
    Expected<double> hi =
        json.getNumber(*(*enc)->get("max"), member(encPath, "max"));
    if (!hi)
      return hi.takeError();
    Expected<double> scale =
        json.getNumber(*(*enc)->get("scale"), member(encPath, "scale"));
    if (!scale)
      return scale.takeError();
    Expected<int64_t> offset =
        readOffset(*(*enc)->get("offset"), member(encPath, "offset"));
    if (!offset)
      return offset.takeError();
    stats.min.push_back(*lo);
    stats.max.push_back(*hi);
    stats.scale.push_back(*scale);
    stats.zeroPoint.push_back(-*offset);
  }
  // More than one encoding is AIMET's per-channel form.
  if (stats.min.size() > 1)
    stats.axis = 0;
  return stats;
}

Error AimetReader::readLegacySection(const json::Object &section,
                                     StringRef path,
                                     std::vector<TensorStats> &out) {
  for (const JsonLineIndex::Key &key : json.keysOf(path)) {
    const json::Value *value = section.get(key.name);
    if (!value)
      continue;
    bool skip = false;
    Expected<TensorStats> stats =
        readLegacyTensor(key.name, *value, member(path, key.name), skip);
    if (!stats)
      return stats.takeError();
    stats->line = key.line;
    if (!skip)
      out.push_back(std::move(*stats));
  }
  return Error::success();
}

Expected<TensorStats> AimetReader::readListEntry(const json::Value &value,
                                                 StringRef path, bool &skip) {
  skip = false;
  Expected<const json::Object *> enc = json.getObject(value, path);
  if (!enc)
    return enc.takeError();
  const json::Value *nameValue = (*enc)->get("name");
  if (!nameValue)
    return json.error(path, "missing \"name\"");
  Expected<StringRef> name = json.getString(*nameValue, member(path, "name"));
  if (!name)
    return name.takeError();
  TensorStats stats;
  stats.name = name->str();
  stats.line = json.lineOf(path);

  if (const json::Value *dtype = (*enc)->get("dtype")) {
    Expected<StringRef> text = json.getString(*dtype, member(path, "dtype"));
    if (!text)
      return text.takeError();
    if (text->equals_insensitive("float")) {
      skip = true;
      return stats;
    }
    if (!text->equals_insensitive("int"))
      return json.error(member(path, "dtype"), "unknown dtype '" + *text +
                                                   "' (expected INT or FLOAT)");
  }
  for (StringRef key : {"bw", "scale"})
    if (!(*enc)->get(key))
      return json.error(path, "missing \"" + key + "\"");
  Expected<unsigned> bits = readBits(*(*enc)->get("bw"), member(path, "bw"));
  if (!bits)
    return bits.takeError();
  stats.bits = *bits;
  if (const json::Value *sym = (*enc)->get("is_sym")) {
    Expected<bool> flag = readFlag(*sym, member(path, "is_sym"));
    if (!flag)
      return flag.takeError();
    stats.symmetric = *flag;
  }

  StringRef encType = "PER_TENSOR";
  if (const json::Value *type = (*enc)->get("enc_type")) {
    Expected<StringRef> text = json.getString(*type, member(path, "enc_type"));
    if (!text)
      return text.takeError();
    encType = *text;
  }
  if (encType != "PER_TENSOR" && encType != "PER_CHANNEL" &&
      encType != "PER_BLOCK")
    return json.error(member(path, "enc_type"),
                      "enc_type '" + encType +
                          "' is not supported (qopt reads PER_TENSOR, "
                          "PER_CHANNEL and PER_BLOCK)");

  std::string scalePath = member(path, "scale");
  const json::Value *scaleValue = (*enc)->get("scale");
  if (scaleValue->getAsArray()) {
    Expected<std::vector<double>> scales =
        json.getNumberArray(*scaleValue, scalePath);
    if (!scales)
      return scales.takeError();
    stats.scale = std::move(*scales);
  } else {
    Expected<double> scale = json.getNumber(*scaleValue, scalePath);
    if (!scale)
      return scale.takeError();
    stats.scale = {*scale};
  }
  if (stats.scale.empty())
    return json.error(scalePath, "no scales");

  if (const json::Value *offsetValue = (*enc)->get("offset")) {
    std::string offsetPath = member(path, "offset");
    std::vector<int64_t> offsets;
    if (const json::Array *array = offsetValue->getAsArray()) {
      for (size_t i = 0, e = array->size(); i != e; ++i) {
        Expected<int64_t> offset =
            readOffset((*array)[i], element(offsetPath, i));
        if (!offset)
          return offset.takeError();
        offsets.push_back(*offset);
      }
    } else {
      Expected<int64_t> offset = readOffset(*offsetValue, offsetPath);
      if (!offset)
        return offset.takeError();
      offsets.push_back(*offset);
    }
    if (offsets.size() != stats.scale.size())
      return json.error(offsetPath, "has " + Twine(offsets.size()) +
                                        " offsets for " +
                                        Twine(stats.scale.size()) + " scales");
    for (int64_t offset : offsets)
      stats.zeroPoint.push_back(-offset);
  } else if (stats.symmetric.value_or(false)) {
    // Symmetric encodings sit at the middle of AIMET's unsigned grid.
    stats.zeroPoint.assign(stats.scale.size(), int64_t(1) << (*stats.bits - 1));
  } else {
    return json.error(path, "missing \"offset\" (needed unless is_sym)");
  }

  if (encType == "PER_TENSOR") {
    if (stats.scale.size() != 1)
      return json.error(scalePath, "PER_TENSOR encoding with " +
                                       Twine(stats.scale.size()) + " scales");
  } else {
    // 1.0.0 has no axis field; QAIRT's overrides add one, which wins.
    stats.axis = 0;
    if (const json::Value *axis = (*enc)->get("axis")) {
      Expected<int64_t> number = json.getInteger(*axis, member(path, "axis"));
      if (!number)
        return number.takeError();
      stats.axis = *number;
    }
  }
  if (encType == "PER_BLOCK") {
    const json::Value *blockSize = (*enc)->get("block_size");
    if (!blockSize)
      return json.error(path, "PER_BLOCK encoding without \"block_size\"");
    Expected<int64_t> size =
        json.getInteger(*blockSize, member(path, "block_size"));
    if (!size)
      return size.takeError();
    stats.blockSize = *size;
  }

  // Ranges: as given when the file has them, otherwise from scale/offset.
  const json::Value *minValue = (*enc)->get("min");
  const json::Value *maxValue = (*enc)->get("max");
  if (minValue && maxValue) {
    for (auto [key, value, out] : {std::tuple{"min", minValue, &stats.min},
                                   std::tuple{"max", maxValue, &stats.max}}) {
      std::string keyPath = member(path, key);
      if (value->getAsArray()) {
        Expected<std::vector<double>> values =
            json.getNumberArray(*value, keyPath);
        if (!values)
          return values.takeError();
        *out = std::move(*values);
      } else {
        Expected<double> number = json.getNumber(*value, keyPath);
        if (!number)
          return number.takeError();
        *out = {*number};
      }
      if (out->size() != stats.scale.size())
        return json.error(keyPath, "has " + Twine(out->size()) +
                                       " values for " +
                                       Twine(stats.scale.size()) + " scales");
    }
  } else {
    deriveRange(stats);
  }
  return stats;
}

Error AimetReader::readListSection(const json::Array &section, StringRef path,
                                   std::vector<TensorStats> &out) {
  for (size_t i = 0, e = section.size(); i != e; ++i) {
    bool skip = false;
    Expected<TensorStats> stats =
        readListEntry(section[i], element(path, i), skip);
    if (!stats)
      return stats.takeError();
    if (!skip)
      out.push_back(std::move(*stats));
  }
  return Error::success();
}

Expected<CalibrationTable> AimetReader::read() {
  Expected<json::Value> root = parseJson(contents, json.getFileName());
  if (!root)
    return root.takeError();
  Expected<const json::Object *> object = json.getObject(*root, "");
  if (!object)
    return object.takeError();

  CalibrationTable table;
  table.format = CalibrationFormat::Aimet;
  std::string version = "0.4.0";
  if (const json::Value *v = (*object)->get("version")) {
    Expected<StringRef> text = json.getString(*v, "version");
    if (!text)
      return text.takeError();
    version = text->str();
  }
  if (!StringRef(version).starts_with("0.") &&
      !StringRef(version).starts_with("1."))
    return json.error("version", "AIMET encoding version " + version +
                                     " is not supported (qopt reads 0.x and "
                                     "1.0.0)");
  table.producer = "aimet encodings " + version;

  // The two sections, each in file order, merged by line.
  std::vector<TensorStats> sections[2];
  bool any = false;
  for (int k = 0; k != 2; ++k) {
    StringRef key = k == 0 ? "activation_encodings" : "param_encodings";
    const json::Value *section = (*object)->get(key);
    if (!section)
      continue;
    any = true;
    if (const json::Object *legacy = section->getAsObject()) {
      if (Error error = readLegacySection(*legacy, key, sections[k]))
        return std::move(error);
    } else if (const json::Array *list = section->getAsArray()) {
      if (Error error = readListSection(*list, key, sections[k]))
        return std::move(error);
    } else {
      return json.error(key, "expected an object or a list, got " +
                                 describeJson(*section));
    }
  }
  if (!any)
    return json.error("", "no \"activation_encodings\" or "
                          "\"param_encodings\" section");
  std::merge(std::make_move_iterator(sections[0].begin()),
             std::make_move_iterator(sections[0].end()),
             std::make_move_iterator(sections[1].begin()),
             std::make_move_iterator(sections[1].end()),
             std::back_inserter(table.tensors),
             [](const TensorStats &a, const TensorStats &b) {
               return a.line < b.line;
             });
  return table;
}

Expected<CalibrationTable> parseAimet(StringRef contents, StringRef fileName) {
  return AimetReader(contents, fileName).read();
}

} // namespace mlir::qopt::detail
