"""qopt: the MLIR quantization compiler, from Python.

* `qopt.compile(ir, pipeline)`: run a pass pipeline on MLIR text, in
  process, through qopt's C API (libQOptCAPI.so, loaded with ctypes);
  failures raise `qopt.CompileError` with MLIR's diagnostics.
* `qopt.calibration`: calibration statistics (min/max, histograms) from
  numpy arrays, written as qopt's calibration JSON; conversion between the
  calibration formats qopt reads.
* `qopt.run(module, entry, inputs)`: run a module on numpy arrays (lowered
  with qopt-lower-cpu when needed, executed by the `qopt-run` tool).

`compile` needs only the standard library; `calibration` and `run` need
numpy. docs/python.md documents the package.
"""

from ._capi import LibraryNotFoundError, library_path
from ._compile import CompileError, CompileWarning, Diagnostic, compile
from ._run import RunError, find_qopt_run, run

__all__ = [
    "CompileError", "CompileWarning", "Diagnostic", "LibraryNotFoundError",
    "RunError", "calibration", "compile", "find_qopt_run", "library_path",
    "run", "version",
]

__version__ = "0.1.0"


def version() -> str:
    """The version of the loaded qopt library ("0.1.0 (LLVM 22.1.8)")."""
    from . import _capi
    lib = _capi.lib()
    return (f"{_capi.from_ref(lib.qoptGetVersion())} "
            f"(LLVM {_capi.from_ref(lib.qoptGetLLVMVersion())})")


def __getattr__(name):
    # qopt.calibration imports numpy; load it on first use so that
    # `import qopt` and qopt.compile work without numpy.
    if name == "calibration":
        import importlib
        return importlib.import_module(".calibration", __name__)
    raise AttributeError(f"module 'qopt' has no attribute {name!r}")
