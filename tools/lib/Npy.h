//===- Npy.h - read and write numpy .npy files ------------------*- C++ -*-===//
//
// .npy I/O shared by qopt-run (its model and lowered-module modes),
// qopt-calibrate and qopt-compare: C-order arrays of little-endian numbers and
// bools in .npy format 1.0 to 3.0 (reading) and 1.0 (writing). Errors are
// sentences that name the file.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TOOLS_LIB_NPY_H
#define QOPT_TOOLS_LIB_NPY_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qopt_run {

/// A C-order array as a .npy file holds it.
struct NpyArray {
  /// numpy's type code without the byte-order character: "f4", "f2", "i1",
  /// "u1", "b1", ... (the only ones readNpy accepts are in npyTypeCodes()).
  std::string dtype;
  llvm::SmallVector<int64_t> shape;
  /// The elements, little-endian, packed.
  std::vector<char> data;

  int64_t numel() const;
};

/// The type codes qopt-run reads and writes.
llvm::ArrayRef<llvm::StringLiteral> npyTypeCodes();

/// Bytes per element of a type code ("f4" -> 4); 0 for an unknown code.
size_t npyItemSize(llvm::StringRef dtype);

/// numpy's name of a type code ("f4" -> "float32").
std::string npyTypeName(llvm::StringRef dtype);

/// "(2, 3)" as numpy prints a shape.
std::string npyShapeString(llvm::ArrayRef<int64_t> shape);

/// Reads `path`. On failure returns false and sets `err` to a sentence that
/// starts with the path.
bool readNpy(const std::string &path, NpyArray &array, std::string &err);

/// Writes `array` to `path` as a version 1.0 .npy file.
bool writeNpy(const std::string &path, const NpyArray &array, std::string &err);

} // namespace qopt_run

#endif // QOPT_TOOLS_LIB_NPY_H
