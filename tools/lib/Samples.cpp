//===- Samples.cpp - --input NAME=GLOB for the model tools ----------------===//
//
// Expands the globs with glob(3) (sorted matches, no tilde or brace
// expansion) and checks every file against the entry's signature when it is
// read, so that a wrong sample is reported with its file name.
//
//===----------------------------------------------------------------------===//

#include "Samples.h"

#include "llvm/ADT/StringMap.h"

#include <glob.h>

namespace qopt_run {

bool SampleSet::resolve(llvm::ArrayRef<std::string> specs, CapturedModel &model,
                        std::string &err) {
  llvm::ArrayRef<ModelArg> args = model.args();
  files.assign(args.size(), {});
  std::vector<std::string> firstSpec(args.size());
  for (const std::string &spec : specs) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      err = "--input '" + spec + "': expected NAME=FILE or NAME='GLOB'";
      return false;
    }
    std::string name = spec.substr(0, eq), pattern = spec.substr(eq + 1);
    auto it =
        llvm::find_if(args, [&](const ModelArg &a) { return a.name == name; });
    if (it == args.end()) {
      std::string names;
      for (const ModelArg &a : args)
        names += (names.empty() ? "" : ", ") + a.name;
      err = "--input " + spec + ": @" + model.entryName() +
            " has no argument named '" + name + "' (arguments: " + names + ")";
      return false;
    }
    size_t index = it - args.begin();
    glob_t g;
    int rc = glob(pattern.c_str(), 0, nullptr, &g);
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
      globfree(&g);
      err = "--input " + spec + ": '" + pattern + "' matches no file";
      return false;
    }
    if (rc != 0) {
      globfree(&g);
      err = "--input " + spec + ": cannot expand '" + pattern + "'";
      return false;
    }
    for (size_t i = 0; i < g.gl_pathc; ++i)
      files[index].push_back(g.gl_pathv[i]);
    globfree(&g);
    if (firstSpec[index].empty())
      firstSpec[index] = spec;
  }
  count = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    if (files[i].empty()) {
      err = "no --input for argument '" + args[i].name + "' of @" +
            model.entryName() + " (" + typeString(args[i].type) +
            "); give --input " + args[i].name + "=FILE.npy";
      return false;
    }
    if (i > 0 && files[i].size() != files[0].size()) {
      err = "--input " + firstSpec[i] + " gives " +
            std::to_string(files[i].size()) + " file(s) but --input " +
            firstSpec[0] + " gives " + std::to_string(files[0].size()) +
            "; every sample needs one file per argument";
      return false;
    }
    count = files[i].size();
  }
  return true;
}

bool SampleSet::load(size_t k, CapturedModel &model,
                     std::vector<NpyArray> &arrays, std::string &err) const {
  arrays.assign(files.size(), {});
  for (size_t i = 0; i < files.size(); ++i) {
    if (!readNpy(files[i][k], arrays[i], err) ||
        !model.lowered().checkInput(i, arrays[i], files[i][k], err))
      return false;
  }
  return true;
}

std::string SampleSet::describe(size_t k) const {
  std::string s;
  for (const auto &f : files)
    s += (s.empty() ? "" : ", ") + f[k];
  return s;
}

} // namespace qopt_run
