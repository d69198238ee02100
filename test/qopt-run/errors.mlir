// qopt-run's lowered-module mode: every error names the file, entry or
// argument concerned and exits 1.
//
// RUN: rm -rf %t && mkdir -p %t/ro
// RUN: qopt %s --qopt-lower-cpu -o %t/add.ll.mlir
// RUN: /usr/bin/python3 %S/Inputs/reference.py bad-npy %t
// RUN: qopt-run %t/add.ll.mlir --entry add --input %t/good.npy --input %t/good.npy --output %t/out.npy
//
// RUN: not qopt-run %s --entry add 2>&1 | FileCheck %s --check-prefix=UNLOWERED
// UNLOWERED: qopt-run: {{.*}}errors.mlir:{{[0-9]+}}:1: 'func.func' is not in the LLVM dialect: {{.*}}errors.mlir is not a lowered module; run qopt-lower-cpu first
//
// RUN: not qopt-run %t/missing.mlir --entry add 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: qopt-run: {{.*}}missing.mlir: cannot read: No such file or directory
//
// RUN: not qopt-run %t/add.ll.mlir --entry sub --input %t/good.npy --input %t/good.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=ENTRY
// ENTRY: qopt-run: {{.*}}add.ll.mlir: no entry @sub (entries: @add, @neg)
//
// RUN: not qopt-run %t/add.ll.mlir 2>&1 | FileCheck %s --check-prefix=NOENTRY
// NOENTRY: qopt-run: {{.*}}add.ll.mlir: give --entry NAME (entries: @add, @neg) or --emit-object FILE.o
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/good.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=NINPUTS
// NINPUTS: qopt-run: {{.*}}add.ll.mlir: @add takes 2 argument(s), (tensor<6x20xf32>, tensor<6x20xf32>) -> tensor<6x20xf32>, but 1 --input file(s) were given
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/good.npy --input %t/good.npy 2>&1 | FileCheck %s --check-prefix=NOUTPUTS
// NOUTPUTS: qopt-run: {{.*}}add.ll.mlir: @add returns 1 result(s), (tensor<6x20xf32>, tensor<6x20xf32>) -> tensor<6x20xf32>, but 0 --output file(s) were given
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/good.npy --input %t/int32.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: qopt-run: {{.*}}int32.npy: dtype int32 does not match argument 1 of @add (tensor<6x20xf32>), which needs float32
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/shape.npy --input %t/good.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: qopt-run: {{.*}}shape.npy: shape (6, 21) does not match argument 0 of @add (tensor<6x20xf32>)
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/rank.npy --input %t/good.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=RANK
// RANK: qopt-run: {{.*}}rank.npy: shape (120,) does not match argument 0 of @add (tensor<6x20xf32>)
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/good.npy --input %t/truncated.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// TRUNCATED: qopt-run: {{.*}}truncated.npy: truncated: holds 476 bytes of data, but a float32 array of shape (6, 20) needs 480
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/good.npy --input %t/header.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=HEADER
// HEADER: qopt-run: {{.*}}header.npy: truncated .npy header (118 bytes announced, 30 present)
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/good.npy --input %t/text.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=MAGIC
// MAGIC: qopt-run: {{.*}}text.npy: not an .npy file (no \x93NUMPY magic)
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/fortran.npy --input %t/good.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=FORTRAN
// FORTRAN: qopt-run: {{.*}}fortran.npy: Fortran-order arrays are not supported; save a C-order copy (np.save(path, np.ascontiguousarray(a)))
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/complex.npy --input %t/good.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=COMPLEX
// COMPLEX: qopt-run: {{.*}}complex.npy: element type '<c8' is not supported
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/good.npy --input %t/good.npy --output %t/nodir/out.npy 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: qopt-run: output {{.*}}nodir/out.npy: directory {{.*}}nodir does not exist
//
// RUN: not qopt-run %t/add.ll.mlir --entry add --input %t/good.npy --input %t/good.npy --output %t/ro 2>&1 | FileCheck %s --check-prefix=ISDIR
// ISDIR: qopt-run: output {{.*}}ro is a directory
//
// A module lowered for another architecture is not run (only compiled).
// RUN: sed -e 's/x86_64-unknown-linux-gnu/aarch64-unknown-linux-gnu/' -e 's/target_cpu = "[a-z0-9-]*"/target_cpu = "generic"/' -e 's/, target_features = #llvm.target_features<[^>]*>//' %t/add.ll.mlir > %t/arm.ll.mlir
// RUN: not qopt-run %t/arm.ll.mlir --entry add --input %t/good.npy --input %t/good.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=ARCH
// ARCH: qopt-run: {{.*}}arm.ll.mlir was lowered for aarch64-unknown-linux-gnu and cannot run on this {{.*}} machine
// ... but --emit-object compiles it for its own target.
// RUN: qopt-run %t/arm.ll.mlir --emit-object %t/arm.o
// RUN: llvm-readobj --file-header %t/arm.o | FileCheck %s --check-prefix=ARMOBJ
// ARMOBJ: Machine: EM_AARCH64
//
// A lowered module without qopt.signature (not from qopt-lower-cpu).
// RUN: sed -E 's/, qopt\.signature = [^=]*, target_cpu/, target_cpu/' %t/add.ll.mlir > %t/nosig.ll.mlir
// RUN: not qopt-run %t/nosig.ll.mlir --entry neg --input %t/good.npy --output %t/out.npy 2>&1 | FileCheck %s --check-prefix=NOSIG
// NOSIG: qopt-run: {{.*}}nosig.ll.mlir: @neg has no qopt.signature (the tensor signature qopt-lower-cpu records); lower the module with qopt-lower-cpu

func.func @add(%a: tensor<6x20xf32>, %b: tensor<6x20xf32>) -> tensor<6x20xf32> {
  %r = arith.addf %a, %b : tensor<6x20xf32>
  return %r : tensor<6x20xf32>
}

func.func @neg(%a: tensor<6x20xf32>) -> tensor<6x20xf32> {
  %r = arith.negf %a : tensor<6x20xf32>
  return %r : tensor<6x20xf32>
}
