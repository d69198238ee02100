"""qopt.run: run a module on numpy arrays with the qopt-run tool, after
lowering it in process with qopt-lower-cpu when it is not yet in the LLVM
dialect."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence, Union

from . import _capi
from ._compile import CompileError, Context, _Collector


class RunError(RuntimeError):
    """qopt-run refused the module or the inputs, or failed; the message is
    its error output. `returncode` and `stderr` are qopt-run's."""

    def __init__(self, message, returncode=None, stderr=""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


def find_qopt_run() -> Path:
    """The qopt-run that `run` uses: $QOPT_RUN, else the build tree or
    install prefix of the loaded library (BUILD/bin beside BUILD/python/qopt,
    PREFIX/bin beside PREFIX/lib), else qopt-run on PATH."""
    env = os.environ.get("QOPT_RUN")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise RunError(f"QOPT_RUN={env} is not an executable file")
        return Path(env)
    tried = []
    try:
        libdir = _capi.library_path().resolve().parent
        for candidate in (libdir / "qopt-run",
                          libdir.parent.parent / "bin" / "qopt-run",
                          libdir.parent / "bin" / "qopt-run"):
            tried.append(str(candidate))
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    except _capi.LibraryNotFoundError:
        pass
    found = shutil.which("qopt-run")
    if found:
        return Path(found)
    raise RunError("cannot find qopt-run (looked in: " +
                   ", ".join(tried + ["PATH"]) +
                   "); set QOPT_RUN or put qopt's build/bin on PATH")


def _split_top_level(text: str) -> List[str]:
    """Splits `a, b<c, d>, e` at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    if last:
        parts.append(last)
    return parts


def _matching(text: str, open_index: int) -> int:
    """Index of the bracket closing the one at `open_index`."""
    depth = 0
    for i in range(open_index, len(text)):
        if text[i] in "<([{":
            depth += 1
        elif text[i] in ">)]}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced brackets")


def _signature(lowered: str, entry: str):
    """(argument types, result types) of @entry's qopt.signature, the
    FunctionType qopt-lower-cpu records on each public function."""
    header = re.search(r"llvm\.func @" + re.escape(entry) + r"\(.*", lowered)
    if not header:
        return None
    line = header.group(0)
    at = line.find("qopt.signature = (")
    if at < 0:
        return None
    start = at + len("qopt.signature = ")
    close = _matching(line, start)
    args = _split_top_level(line[start + 1:close])
    rest = line[close + 1:].lstrip()
    if not rest.startswith("->"):
        return None
    rest = rest[2:].lstrip()
    if rest.startswith("("):
        results = _split_top_level(rest[1:_matching(rest, 0)])
    else:
        results = _split_top_level(rest)[:1]
        results = [re.split(r"[,}]", results[0])[0].strip()] if results else []
    return args, results


def lower(module: str, pipeline: str = "qopt-lower-cpu", *,
          source_name: str = "<input>") -> str:
    """Returns `module` (MLIR text) lowered with `pipeline`, or unchanged if
    it is already entirely in the LLVM dialect."""
    collector = _Collector()
    with Context() as context:
        parsed = context.parse(module, source_name, collector)
        try:
            if context.is_llvm_dialect(parsed):
                return module
            context.run(parsed, pipeline, collector)
            return context.print(parsed)
        finally:
            context.destroy(parsed)


def _read_module(module: Union[str, os.PathLike]):
    if isinstance(module, os.PathLike) or (
            isinstance(module, str) and "\n" not in module and
            os.path.isfile(module)):
        path = Path(module)
        return path.read_text(), str(path)
    if isinstance(module, str):
        return module, "<input>"
    raise TypeError("module must be MLIR text or a path, not "
                    f"{type(module).__name__}")


def run(module: Union[str, os.PathLike], entry: str, inputs=(), *,
        lower_pipeline: str = "qopt-lower-cpu",
        qopt_run: Optional[Union[str, os.PathLike]] = None,
        timeout: Optional[float] = None) -> list:
    """Runs function `entry` of `module` on `inputs` and returns its results
    as a list of numpy arrays.

    `module` is MLIR text or the path of an .mlir file (a `pathlib.Path`,
    or a one-line string naming an existing file). A module not entirely in
    the LLVM dialect is first lowered in process with `lower_pipeline`
    (qopt-lower-cpu, for this machine's CPU). `inputs` is one array or a
    sequence of arrays, one per argument, whose dtypes and shapes match the
    function's tensor signature (qopt-run checks them: docs/qopt-run.md).

    The lowered module and the arrays are written to a temporary directory
    and run by `qopt-run FILE --entry E --input ... --output ...`
    (`qopt_run`, or find_qopt_run()). Raises CompileError when lowering
    fails and RunError when qopt-run refuses the module or the inputs.
    """
    import numpy as np

    text, source_name = _read_module(module)
    lowered = lower(text, lower_pipeline, source_name=source_name)
    signature = _signature(lowered, entry)
    if signature is None:
        raise RunError(f"{source_name}: no public function @{entry} with a "
                       "qopt.signature in the lowered module")
    arg_types, result_types = signature

    if isinstance(inputs, np.ndarray) or np.isscalar(inputs):
        inputs = [inputs]
    arrays = [np.ascontiguousarray(np.asarray(a)) for a in inputs]
    if len(arrays) != len(arg_types):
        raise RunError(f"@{entry} takes {len(arg_types)} argument(s) "
                       f"({', '.join(arg_types)}), but {len(arrays)} "
                       "input(s) were given")

    tool = Path(qopt_run) if qopt_run else find_qopt_run()
    with tempfile.TemporaryDirectory(prefix="qopt-run-") as tmp:
        tmp = Path(tmp)
        module_path = tmp / "module.lowered.mlir"
        module_path.write_text(lowered)
        command = [str(tool), str(module_path), "--entry", entry]
        for i, array in enumerate(arrays):
            path = tmp / f"input{i}.npy"
            np.save(path, array)
            command += ["--input", str(path)]
        outputs = [tmp / f"output{i}.npy" for i in range(len(result_types))]
        for path in outputs:
            command += ["--output", str(path)]
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            stderr = done.stderr.strip()
            raise RunError(stderr or f"qopt-run exited with {done.returncode}",
                           done.returncode, done.stderr)
        return [np.load(path) for path in outputs]


__all__ = ["CompileError", "RunError", "find_qopt_run", "lower", "run"]
