//===- Samples.h - --input NAME=GLOB for the model tools --------*- C++ -*-===//
//
// qopt-calibrate and qopt-compare take their samples as `--input NAME=GLOB`
// (one per entry argument, named as docs/naming.md names arguments). A
// glob's matches are sorted by file name; sample k takes the k-th file of
// every argument, so all arguments must match the same number of files.
// Repeating `--input NAME=...` appends to that argument's files.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TOOLS_LIB_SAMPLES_H
#define QOPT_TOOLS_LIB_SAMPLES_H

#include "CapturedModel.h"

#include <string>
#include <vector>

namespace qopt_run {

class SampleSet {
public:
  /// Resolves `specs` against `model`'s arguments. On failure returns false
  /// and sets `err` to a sentence naming the option or the argument.
  bool resolve(llvm::ArrayRef<std::string> specs, CapturedModel &model,
               std::string &err);

  size_t size() const { return count; }

  /// Reads sample `k` into `arrays` (one per argument, checked against the
  /// entry's signature).
  bool load(size_t k, CapturedModel &model, std::vector<NpyArray> &arrays,
            std::string &err) const;

  /// The files of sample `k`, "a.npy" or "a.npy, b.npy".
  std::string describe(size_t k) const;

  /// The file of argument `arg` in sample `k`.
  const std::string &file(size_t k, size_t arg) const { return files[arg][k]; }

private:
  std::vector<std::vector<std::string>> files;
  size_t count = 0;
};

} // namespace qopt_run

#endif // QOPT_TOOLS_LIB_SAMPLES_H
