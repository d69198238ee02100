"""qopt.compile: parse MLIR text, run a pass pipeline, print the result,
with MLIR's diagnostics turned into Python objects."""

import ctypes
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Union

from . import _capi


@dataclass
class Diagnostic:
    """One MLIR diagnostic: `severity` is "error", "warning", "remark" or
    "note"; `location` is FILE:LINE:COL where the IR has a file location
    (the `source_name` given to compile), FILE alone for the module itself,
    MLIR's printed location otherwise, and "pipeline:1:COL" (or "pipeline")
    for errors in the pipeline string. `notes` are the notes
    MLIR attached to it."""
    severity: str
    location: str
    message: str
    notes: List["Diagnostic"] = field(default_factory=list)

    def __str__(self):
        lines = [f"{self.location}: {self.severity}: {self.message}"]
        lines += [str(note) for note in self.notes]
        return "\n".join(lines)


class CompileError(Exception):
    """Parsing, verifying or running the pipeline failed. `diagnostics`
    holds every diagnostic reported (errors, warnings and their notes); the
    message is their text, one per line, FILE:LINE:COL first."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics) or
                         "compilation failed")


class CompileWarning(UserWarning):
    """A warning diagnostic of a successful compile."""


class _Collector:
    def __init__(self):
        self.diagnostics = []
        self.callback = _capi.DiagnosticCallback(self._on_diagnostic)

    def _on_diagnostic(self, severity, location, message, _):
        diag = Diagnostic(_capi.SEVERITIES.get(severity, "error"),
                          _capi.from_ref(location), _capi.from_ref(message))
        if diag.severity == "note" and self.diagnostics:
            self.diagnostics[-1].notes.append(diag)
        else:
            self.diagnostics.append(diag)


class Context:
    """An MLIR context with qopt's and the upstream dialects registered
    (qoptContextRegisterAllDialects); destroyed on close() or on leaving a
    with-block."""

    def __init__(self):
        self._lib = _capi.lib()
        self._context = self._lib.mlirContextCreate()
        self._lib.qoptContextRegisterAllDialects(self._context)

    def close(self):
        if self._context is not None:
            self._lib.mlirContextDestroy(self._context)
            self._context = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def parse(self, text: str, source_name: str, collector: _Collector):
        data = text.encode("utf-8")
        name = source_name.encode("utf-8")
        module = self._lib.qoptParseModule(self._context, _capi.to_ref(data),
                                           _capi.to_ref(name),
                                           collector.callback, None)
        if not module.ptr:
            raise CompileError(collector.diagnostics)
        return module

    def run(self, module, pipeline: str, collector: _Collector):
        data = pipeline.encode("utf-8")
        result = self._lib.qoptRunPassPipeline(module, _capi.to_ref(data),
                                               collector.callback, None)
        if not result.succeeded():
            raise CompileError(collector.diagnostics)

    def is_llvm_dialect(self, module) -> bool:
        return bool(self._lib.qoptModuleIsLLVMDialect(module))

    def print(self, module) -> str:
        chunks = []

        def append(ref, _):
            chunks.append(ctypes.string_at(ref.data, ref.length))

        callback = _capi.StringCallback(append)
        self._lib.mlirOperationPrint(self._lib.mlirModuleGetOperation(module),
                                     callback, None)
        return b"".join(chunks).decode("utf-8")

    def destroy(self, module):
        self._lib.mlirModuleDestroy(module)


def _pipeline_text(pipeline: Union[str, Sequence[str]]) -> str:
    if isinstance(pipeline, str):
        return pipeline
    return ",".join(pipeline)


def compile(ir: str, pipeline: Union[str, Sequence[str]], *,
            source_name: str = "<input>",
            diagnostics: Optional[list] = None) -> str:
    """Parses `ir` (MLIR text), runs `pipeline` on it and returns the
    resulting module as text.

    `pipeline` is a textual pass pipeline as the `qopt` driver's
    `--pass-pipeline` takes it, with or without the `builtin.module(...)`
    anchor (`"qopt-quantize{calibration=c.json},canonicalize"`), or a list
    of such elements. `source_name` is the file name used in locations.

    Raises CompileError carrying the diagnostics when the IR does not parse
    or verify, the pipeline does not parse, or a pass fails. Warnings of a
    successful compile are issued as CompileWarning; when `diagnostics` is a
    list, every diagnostic is also appended to it.
    """
    if not isinstance(ir, str):
        raise TypeError(f"ir must be MLIR text (str), not {type(ir).__name__}")
    collector = _Collector()
    try:
        with Context() as context:
            module = context.parse(ir, source_name, collector)
            try:
                context.run(module, _pipeline_text(pipeline), collector)
                text = context.print(module)
            finally:
                context.destroy(module)
    finally:
        if diagnostics is not None:
            diagnostics.extend(collector.diagnostics)
    for diag in collector.diagnostics:
        if diag.severity == "warning":
            warnings.warn(str(diag), CompileWarning, stacklevel=2)
    return text
