"""ctypes bindings of libQOptCAPI.so (include/qopt-c and the few mlir-c
functions it exports), and the search for the library.

The library is looked up, first match wins, in:

1. ``$QOPT_LIBRARY``: the library file, or a directory holding it (an error
   if set but nothing is there);
2. the package directory (the build-tree package ``build/python/qopt`` and a
   package installed with ``pip install build/python`` carry it);
3. ``$QOPT_BUILD/python/qopt`` and ``$QOPT_BUILD/lib``;
4. next to a ``qopt`` driver on ``PATH`` (``BUILD/bin/qopt`` gives
   ``BUILD/python/qopt`` and ``BUILD/lib``).
"""

import ctypes
import os
import shutil
import threading
from pathlib import Path

LIBRARY_NAME = "libQOptCAPI.so"


class LibraryNotFoundError(ImportError):
    """libQOptCAPI.so was not found (the message lists where it looked)."""


class MlirStringRef(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("length", ctypes.c_size_t)]


class _Handle(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p)]


class MlirContext(_Handle):
    pass


class MlirDialectRegistry(_Handle):
    pass


class MlirModule(_Handle):
    pass


class MlirOperation(_Handle):
    pass


class MlirLogicalResult(ctypes.Structure):
    _fields_ = [("value", ctypes.c_int8)]

    def succeeded(self):
        return self.value != 0


StringCallback = ctypes.CFUNCTYPE(None, MlirStringRef, ctypes.c_void_p)
DiagnosticCallback = ctypes.CFUNCTYPE(None, ctypes.c_int, MlirStringRef,
                                      MlirStringRef, ctypes.c_void_p)

SEVERITIES = {0: "error", 1: "warning", 2: "note", 3: "remark"}


def to_ref(data: bytes) -> MlirStringRef:
    """A string ref viewing `data`; the caller keeps `data` alive."""
    return MlirStringRef(ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p),
                         len(data))


def from_ref(ref: MlirStringRef) -> str:
    if not ref.length:
        return ""
    return ctypes.string_at(ref.data, ref.length).decode("utf-8", "replace")


_SIGNATURES = {
    "qoptRegisterAllDialects": (None, [MlirDialectRegistry]),
    "qoptContextRegisterAllDialects": (None, [MlirContext]),
    "qoptRegisterAllPasses": (None, []),
    "qoptGetVersion": (MlirStringRef, []),
    "qoptGetLLVMVersion": (MlirStringRef, []),
    "qoptParseModule": (MlirModule, [MlirContext, MlirStringRef, MlirStringRef,
                                     DiagnosticCallback, ctypes.c_void_p]),
    "qoptRunPassPipeline": (MlirLogicalResult,
                            [MlirModule, MlirStringRef, DiagnosticCallback,
                             ctypes.c_void_p]),
    "qoptModuleIsLLVMDialect": (ctypes.c_bool, [MlirModule]),
    "qoptCalibrationConvertFile": (MlirLogicalResult,
                                   [MlirStringRef, MlirStringRef,
                                    MlirStringRef, StringCallback,
                                    StringCallback, ctypes.c_void_p]),
    "qoptCalibrationConvert": (MlirLogicalResult,
                               [MlirStringRef, MlirStringRef, MlirStringRef,
                                MlirStringRef, StringCallback, StringCallback,
                                ctypes.c_void_p]),
    "qoptCalibrationDetectFormat": (MlirStringRef, [MlirStringRef]),
    "mlirContextCreate": (MlirContext, []),
    "mlirContextDestroy": (None, [MlirContext]),
    "mlirModuleDestroy": (None, [MlirModule]),
    "mlirModuleGetOperation": (MlirOperation, [MlirModule]),
    "mlirOperationPrint": (None, [MlirOperation, StringCallback,
                                  ctypes.c_void_p]),
}


def _candidates():
    env = os.environ.get("QOPT_LIBRARY")
    if env:
        path = Path(env)
        yield path / LIBRARY_NAME if path.is_dir() else path
        return
    yield Path(__file__).resolve().parent / LIBRARY_NAME
    build = os.environ.get("QOPT_BUILD")
    if build:
        yield Path(build) / "python" / "qopt" / LIBRARY_NAME
        yield Path(build) / "lib" / LIBRARY_NAME
    driver = shutil.which("qopt")
    if driver:
        prefix = Path(driver).resolve().parent.parent
        yield prefix / "python" / "qopt" / LIBRARY_NAME
        yield prefix / "lib" / LIBRARY_NAME


_lock = threading.Lock()
_lib = None


def library_path() -> Path:
    """The libQOptCAPI.so that `lib()` loads (or raises LibraryNotFoundError)."""
    tried = []
    for path in _candidates():
        if path.is_file():
            return path
        tried.append(str(path))
    hint = ("QOPT_LIBRARY is set but names no library"
            if os.environ.get("QOPT_LIBRARY") else
            "set QOPT_LIBRARY to the library (build/lib/libQOptCAPI.so after "
            "`ninja -C build QOptPython`), put qopt's build/bin on PATH, or "
            "use the build-tree package (PYTHONPATH=build/python)")
    raise LibraryNotFoundError(
        f"cannot find {LIBRARY_NAME}; looked in: {', '.join(tried) or '-'}; "
        f"{hint}")


def lib() -> ctypes.CDLL:
    """The loaded library with its function signatures declared; passes are
    registered on first load."""
    global _lib
    with _lock:
        if _lib is None:
            path = library_path()
            handle = ctypes.CDLL(str(path))
            for name, (restype, argtypes) in _SIGNATURES.items():
                function = getattr(handle, name)
                function.restype = restype
                function.argtypes = argtypes
            handle.qoptRegisterAllPasses()
            handle.path = path
            _lib = handle
        return _lib
