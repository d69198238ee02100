# A stand-in for another MLIR's package (test/Embed/find-package.test): what
# QOptConfig.cmake reads of it is the LLVM version.
set(LLVM_VERSION_MAJOR 21)
set(LLVM_VERSION_MINOR 1)
set(LLVM_PACKAGE_VERSION 21.1.0)
set(MLIR_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
