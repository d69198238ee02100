# -*- Python -*-
# lit configuration for qopt's regression tests (IR in, IR or diagnostics out).

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "QOPT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qopt_obj_root, "test")
# Unit/ has its own config (GoogleTest); unittests/ holds only sources.
config.excludes = ["Inputs", "CMakeLists.txt", "README.md", "lit.cfg.py",
                   "lit.site.cfg.py", "unittests"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%qopt_src_root", config.qopt_src_root))
config.substitutions.append(("%qopt_version", config.qopt_version))
config.substitutions.append(("%llvm_version", config.llvm_version))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# FileCheck, not and count live only in LLVM 22's bin/ on Debian.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.qopt_tools_dir, append_path=True)

# `qopt` is found through PATH (qopt's bin/ comes first) rather than a tool
# substitution, which would also rewrite words such as `format=qopt` inside
# pass options.
if not os.path.exists(os.path.join(config.qopt_tools_dir, "qopt")):
    lit_config.fatal("qopt is not built: " + config.qopt_tools_dir)

# ONNX front door (test/Target/ONNX, test/Conformance): features for what the
# tests need, so they report UNSUPPORTED where it is missing.
if os.path.isdir("/usr/share/libonnx-testdata/data/node"):
    config.available_features.add("onnx-testdata")
config.substitutions.append(("%onnx_python", "/usr/bin/python3"))
import subprocess
try:
    subprocess.run(["/usr/bin/python3", "-c", "import onnx, numpy"],
                   check=True, capture_output=True)
    config.available_features.add("python-onnx")
except (OSError, subprocess.CalledProcessError):
    pass
try:
    subprocess.run(["/usr/bin/python3", "-c", "import numpy"], check=True,
                   capture_output=True)
    config.available_features.add("python-numpy")
except (OSError, subprocess.CalledProcessError):
    pass
config.substitutions.append(("%numpy_python", "/usr/bin/python3"))
# The Python package's pytest suite (test/python/pytest.test).
try:
    subprocess.run(["/usr/bin/python3", "-c", "import pytest"], check=True,
                   capture_output=True)
    config.available_features.add("python-pytest")
except (OSError, subprocess.CalledProcessError):
    pass
# pip with an offline setuptools build (test/python/pip-install.test).
try:
    subprocess.run(["/usr/bin/python3", "-c", "import setuptools, wheel, pip"],
                   check=True, capture_output=True)
    config.available_features.add("python-pip")
except (OSError, subprocess.CalledProcessError):
    pass
try:
    subprocess.run(["/usr/bin/python3", "-c", "import PIL"], check=True,
                   capture_output=True)
    config.available_features.add("python-pil")
except (OSError, subprocess.CalledProcessError):
    pass
config.substitutions.append(("%qopt_obj_root", config.qopt_obj_root))
# onnxruntime-node in the build-local npm prefix (scripts/setup.sh installs
# it), and a node that loads its CPU binary.
npm_prefix = os.path.join(config.qopt_obj_root, "npm")
if os.path.isdir(os.path.join(npm_prefix, "node_modules", "onnxruntime-node")):
    try:
        subprocess.run(["node", "-e", "require('onnxruntime-node')"],
                       check=True, capture_output=True, timeout=60,
                       env=dict(os.environ, NODE_PATH=os.path.join(
                           npm_prefix, "node_modules")))
        config.available_features.add("onnxruntime")
        if os.path.isdir(os.path.join(npm_prefix, "node_modules", "@gutenye",
                                      "ocr-models", "assets")):
            config.available_features.add("ocr-models")
    except (OSError, subprocess.SubprocessError):
        pass
config.substitutions.append(("%npm_prefix", npm_prefix))

# Tests that run AVX512-BF16 code on this machine (cpu=host) need the
# instructions (the kernel refuses a target without them).
try:
    with open("/proc/cpuinfo") as cpuinfo:
        if any(line.startswith("flags") and " avx512_bf16" in line
               for line in cpuinfo):
            config.available_features.add("host-avx512bf16")
except OSError:
    pass

# aarch64 execution (test/Conversion/LinalgToCPU/arm-neon-qemu.test):
# clang-22 cross-compiles for aarch64-linux-gnu against Debian's cross libc
# and libgcc (libc6-dev-arm64-cross, gcc-aarch64-linux-gnu) and qemu-user
# runs the result with every extension (-cpu max: dotprod, i8mm).
import glob
import shutil
aarch64_sysroot = "/usr/aarch64-linux-gnu"
if (shutil.which("qemu-aarch64") and shutil.which("clang-22") and
        os.path.exists(os.path.join(aarch64_sysroot, "lib", "crt1.o")) and
        os.path.exists(os.path.join(aarch64_sysroot, "lib",
                                    "ld-linux-aarch64.so.1")) and
        glob.glob("/usr/lib/gcc-cross/aarch64-linux-gnu/*/crtbegin.o")):
    config.available_features.add("aarch64-qemu")
config.substitutions.append(
    ("%aarch64_cc", "clang-22 --target=aarch64-linux-gnu -O2 -fuse-ld=lld "
     "-Wno-override-module"))
config.substitutions.append(
    ("%aarch64_run", "qemu-aarch64 -cpu max -L " + aarch64_sysroot))

# Out-of-tree builds against qopt's CMake package (test/Embed): %cmake is
# the CMake that configured qopt; %qopt_cmake_flags configures a project
# with qopt's generator, build type, compilers, linker and MLIR.
import shlex
config.substitutions.append(("%cmake", shlex.quote(config.cmake_command)))
qopt_cmake_flags = [
    "-G", config.cmake_generator,
    "-DCMAKE_MAKE_PROGRAM=" + config.cmake_make_program,
    "-DCMAKE_BUILD_TYPE=" + (config.cmake_build_type or "Release"),
    "-DCMAKE_C_COMPILER=" + config.cmake_c_compiler,
    "-DCMAKE_CXX_COMPILER=" + config.cmake_cxx_compiler,
    "-DMLIR_DIR=" + config.mlir_dir,
]
if config.cmake_cxx_compiler_launcher:
    qopt_cmake_flags.append(
        "-DCMAKE_CXX_COMPILER_LAUNCHER=" + config.cmake_cxx_compiler_launcher)
if config.llvm_use_linker:
    qopt_cmake_flags.append(
        "-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=" + config.llvm_use_linker)
config.substitutions.append(
    ("%qopt_cmake_flags", " ".join(shlex.quote(f) for f in qopt_cmake_flags)))
# A compiler launcher (ccache) keeps its cache where the build said.
llvm_config.with_system_environment(["CCACHE_DIR"])
