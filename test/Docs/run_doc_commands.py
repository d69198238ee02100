#!/usr/bin/env python3
# ===- run_doc_commands.py - run the commands of qopt's docs pages -------=== #
#
# The docs test: every fenced block opened with ```sh in the given Markdown
# pages is executed, so the docs cannot drift from the tools. The convention
# (docs/README.md repeats it for authors):
#
# - Blocks opened with ```sh run; ```text, ```mlir, ```console, ```cpp,
#   ```python, ... do not.
# - All sh blocks of one page run in order, each as a bash script with
#   `set -euo pipefail`, in one fresh scratch directory per page whose
#   entries examples, test, python, docs, scripts and benchmarks are
#   symlinks to the source tree's.
# - PATH starts with the build's bin/, then /usr/lib/llvm-22/bin, then
#   /usr/bin (Debian's python3, with numpy); QOPT_SRC
#   (source root), QOPT_BUILD (build directory) and
#   PYTHONPATH=$QOPT_BUILD/python are set.
# - Markers are HTML comments on the lines just before a fence (blank lines
#   between are allowed):
#     <!-- docs-test: skip: REASON -->       the block is not run
#     <!-- docs-test: requires: FEATURE -->  run only when the lit feature
#                                            FEATURE is available
#     <!-- docs-test: lines-in: FILE -->     (any block) every non-blank line
#                                            of the block occurs in FILE
#                                            (relative to the scratch
#                                            directory; $QOPT_BUILD and
#                                            other variables of the page's
#                                            environment are replaced), in
#                                            order; `...` in a
#                                            line matches any text, a line
#                                            that is only `...` is skipped
#     <!-- docs-test: file: NAME -->         (any block) the block's text is
#                                            written to NAME in the scratch
#                                            directory when the page gets
#                                            there, for later sh blocks
#   A requires marker on a line of its own that is not before a fence
#   applies to the whole page.
#
# It also checks that every relative link of every page points to an
# existing file (and, for links into a Markdown page with #anchor, to an
# existing heading).
#
# A failure names the page, the block's line, the command and its output,
# and the script exits 1.
#
# ===---------------------------------------------------------------------=== #

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SYMLINKS = ["examples", "test", "python", "docs", "scripts", "benchmarks"]
LLVM_BIN = "/usr/lib/llvm-22/bin"
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([^\s`]*)")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*([a-z-]+)\s*:\s*(.*?)\s*-->\s*$")


class Block:
    def __init__(self, line, lang, text, markers):
        self.line = line  # 1-based line of the opening fence
        self.lang = lang
        self.text = text
        self.markers = markers  # list of (kind, value)

    def marker(self, kind):
        return [v for k, v in self.markers if k == kind]


def parse_page(path, name):
    """Returns (blocks, page_markers, errors) of a Markdown page."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, page_markers, errors = [], [], []
    pending = []  # markers seen since the last non-blank, non-marker line
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if m:
            indent, fence, lang = m.group(1), m.group(2), m.group(3)
            body = []
            j = i + 1
            while j < len(lines):
                close = lines[j].strip()
                if close.startswith(fence[0] * len(fence)) and \
                        close.strip(fence[0]) == "":
                    break
                body.append(lines[j][len(indent):]
                            if lines[j].startswith(indent) else lines[j])
                j += 1
            if j == len(lines):
                errors.append("%s:%d: code block is never closed" %
                              (name, i + 1))
            if lang == "sh":
                for k, text in enumerate(body):
                    if re.match(r"^\s*!\s", text):
                        errors.append(
                            "%s:%d: '! COMMAND' never fails a set -e script; "
                            "write 'not COMMAND' (LLVM's not, on PATH)" %
                            (name, i + 2 + k))
            blocks.append(Block(i + 1, lang, "\n".join(body) + "\n", pending))
            pending = []
            i = j + 1
            continue
        mm = MARKER.match(line)
        if mm:
            kind, value = mm.group(1), mm.group(2)
            if kind not in ("skip", "requires", "lines-in", "file"):
                errors.append("%s:%d: unknown docs-test marker '%s' (known: "
                              "skip, requires, lines-in, file)" %
                              (name, i + 1, kind))
            elif kind == "file" and (os.path.isabs(value) or
                                     ".." in value.split("/")):
                errors.append("%s:%d: docs-test file '%s' must be a path "
                              "inside the scratch directory" %
                              (name, i + 1, value))
            elif not value:
                errors.append("%s:%d: docs-test marker '%s' needs a value" %
                              (name, i + 1, kind))
            else:
                pending.append((kind, value, i + 1))
        elif re.match(r"\s*<!--\s*docs-test", line):
            errors.append("%s:%d: malformed docs-test marker; expected "
                          "<!-- docs-test: KIND: VALUE -->" % (name, i + 1))
        elif line.strip():
            for kind, value, where in pending:
                if kind == "requires":
                    page_markers.append((kind, value))
                else:
                    errors.append("%s:%d: docs-test marker '%s' is not "
                                  "followed by a code block" %
                                  (name, where, kind))
            pending = []
        i += 1
    for kind, value, where in pending:
        errors.append("%s:%d: docs-test marker '%s' is not followed by a "
                      "code block" % (name, where, kind))
    for b in blocks:
        b.markers = [(k, v) for k, v, _ in b.markers]
    return blocks, page_markers, errors


# --- links ---------------------------------------------------------------

# [text](target "title") and ![alt](target): group 1 is the target.
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]"
                  r"\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def heading_anchors(path):
    """GitHub-style anchors of the headings of a Markdown page."""
    anchors = set()
    counts = {}
    in_code = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if FENCE.match(line):
                in_code = not in_code
                continue
            if in_code:
                continue
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            text = re.sub(r"`", "", m.group(1))
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            n = counts.get(slug, 0)
            counts[slug] = n + 1
            anchors.add(slug if n == 0 else "%s-%d" % (slug, n))
    return anchors


def check_links(path, name):
    errors = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    in_code = False
    for n, line in enumerate(lines, 1):
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        # Inline code spans are not links.
        text = re.sub(r"`[^`]*`", "", line)
        for m in LINK.finditer(text):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or \
                    target.startswith("//"):
                continue  # http:, https:, mailto:, ...
            file_part, _, anchor = target.partition("#")
            if file_part:
                dest = os.path.normpath(os.path.join(os.path.dirname(path),
                                                     file_part))
            else:
                dest = path
            shown = os.path.relpath(dest, os.path.dirname(path))
            if not os.path.exists(dest):
                errors.append("%s:%d: broken link '%s': %s does not exist" %
                              (name, n, target, shown))
                continue
            if anchor and dest.endswith(".md") and os.path.isfile(dest) and \
                    anchor not in heading_anchors(dest):
                errors.append("%s:%d: broken link '%s': %s has no heading "
                              "with anchor '#%s'" % (name, n, target, shown,
                                                     anchor))
    return errors


def check_index(index, pages, src):
    """Every page but the index itself is linked from the index."""
    with open(index, encoding="utf-8") as f:
        text = f.read()
    linked = set()
    for m in LINK.finditer(re.sub(r"`[^`]*`", "", text)):
        target = m.group(1).partition("#")[0]
        if target and not re.match(r"^[a-z][a-z0-9+.-]*:", target):
            linked.add(os.path.normpath(
                os.path.join(os.path.dirname(index), target)))
    rel = os.path.relpath(index, src)
    return ["%s: %s is not in the index; add a row for it" %
            (rel, os.path.relpath(p, src)) for p in pages
            if p != index and
            p.startswith(os.path.join(os.path.dirname(index), "")) and
            p not in linked]


# --- lines-in ------------------------------------------------------------

def line_pattern(doc_line):
    parts = [re.escape(p) for p in doc_line.split("...")]
    return re.compile("^" + ".*".join(parts) + "$")


def check_lines_in(block, file_name, scratch, env):
    """Returns (whether FILE is missing, an error message or None)."""
    # $NAME and ${NAME} are the page's environment ($QOPT_BUILD, ...).
    file_name = re.sub(r"\$\{?(\w+)\}?",
                       lambda m: env.get(m.group(1), m.group(0)), file_name)
    path = os.path.join(scratch, file_name)
    if not os.path.isfile(path):
        hint = ""
        if os.path.join("docs", "") in file_name and \
                file_name.startswith(env.get("QOPT_BUILD", "?")):
            hint = " (ninja -C %s qopt-doc writes it)" % env["QOPT_BUILD"]
        return True, "lines-in: %s does not exist%s" % (file_name, hint)
    with open(path, encoding="utf-8", errors="replace") as f:
        have = [l.strip() for l in f.read().split("\n")]
    pos = 0
    for want in block.text.split("\n"):
        want = want.strip()
        if not want or want == "...":
            continue
        pat = line_pattern(want)
        while pos < len(have) and not pat.match(have[pos]):
            pos += 1
        if pos == len(have):
            return False, ("lines-in: this line of the block is not in %s "
                           "(after the lines before it):\n  %s" %
                           (file_name, want))
        pos += 1
    return False, None


# --- running -------------------------------------------------------------

def make_scratch(root, src, page_path):
    name = re.sub(r"[^\w.-]", "_", os.path.relpath(page_path, src))
    scratch = tempfile.mkdtemp(prefix=name + ".", dir=root)
    for entry in SYMLINKS:
        os.symlink(os.path.join(src, entry), os.path.join(scratch, entry))
    return scratch


def page_env(src, build):
    env = dict(os.environ)
    # /usr/bin third: `python3` is Debian's (with numpy, onnx) even where
    # another python3 comes first on the caller's PATH.
    env["PATH"] = os.pathsep.join([os.path.join(build, "bin"), LLVM_BIN,
                                   "/usr/bin", env.get("PATH", "/bin")])
    env["QOPT_SRC"] = src
    env["QOPT_BUILD"] = build
    env["PYTHONPATH"] = os.path.join(build, "python")
    return env


def indent(text, prefix="  "):
    return "".join(prefix + l + "\n" for l in text.rstrip("\n").split("\n"))


def run_page(page, src, build, features, scratch_root, timeout, verbose):
    """Runs one page; returns (failures, ran, skipped, seconds)."""
    rel = os.path.relpath(page, src)
    blocks, page_markers, errors = parse_page(page, rel)
    failures = ["%s" % e for e in errors]
    ran = skipped = 0
    start = time.monotonic()
    missing_page = [v for k, v in page_markers
                    if k == "requires" and v not in features]
    scratch = None
    env = page_env(src, build)
    not_run = False  # a block before was left out for a missing feature
    for b in blocks:
        where = "%s:%d" % (rel, b.line)
        if b.lang != "sh" and not b.marker("lines-in") and \
                not b.marker("file"):
            continue
        if b.marker("skip"):
            skipped += 1
            if verbose:
                print("%s: skipped (%s)" % (where, b.marker("skip")[0]))
            continue
        missing = missing_page + [v for v in b.marker("requires")
                                  if v not in features]
        if missing:
            not_run = True
            skipped += 1
            if verbose:
                print("%s: not run: requires %s" % (where,
                                                    ", ".join(missing)))
            continue
        if scratch is None:
            scratch = make_scratch(scratch_root, src, page)
        for file_name in b.marker("file"):
            dest = os.path.join(scratch, file_name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "w", encoding="utf-8") as f:
                f.write(b.text)
        if b.lang == "sh":
            # Blank lines so that bash's "line N" is the page's line N.
            script = "set -euo pipefail\n" + "\n" * (b.line - 1) + b.text
            t0 = time.monotonic()
            # A session of its own, so that a timeout ends the block's
            # children too.
            proc = subprocess.Popen(["bash", "-c", script], cwd=scratch,
                                    env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                out, _ = proc.communicate(timeout=timeout)
                status = proc.returncode
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, _ = proc.communicate()
                status = "timeout after %d s" % timeout
            out = out.decode("utf-8", "replace")
            ran += 1
            if verbose:
                print("%s: ran in %.2f s" % (where, time.monotonic() - t0))
            if status != 0:
                failures.append(
                    "%s: sh block failed (exit %s)\ncommand:\n%soutput:\n%s"
                    "scratch directory: %s" %
                    (where, status, indent(b.text), indent(out or "(none)"),
                     scratch))
                break  # later blocks of the page depend on this one
        for file_name in b.marker("lines-in"):
            missing_file, err = check_lines_in(b, file_name, scratch, env)
            if missing_file and not_run:
                # The block that writes the file may be the one not run.
                skipped += 1
                if verbose:
                    print("%s: not checked: %s" % (where, err))
            elif err:
                failures.append("%s: %s" % (where, err))
    return failures, ran, skipped, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(
        description="Run the ```sh blocks of Markdown pages and check their "
        "links (qopt's docs test; see docs/README.md).")
    ap.add_argument("pages", nargs="+",
                    help="Markdown pages, or directories: their *.md files, "
                    "recursively")
    ap.add_argument("--exclude", action="append", default=[],
                    help="a directory whose pages are left out")
    ap.add_argument("--src", required=True, help="qopt's source root")
    ap.add_argument("--build", required=True, help="qopt's build directory")
    ap.add_argument("--scratch", required=True,
                    help="directory for the per-page scratch directories "
                    "(emptied first)")
    ap.add_argument("--features", default="",
                    help="comma-separated lit features available")
    ap.add_argument("--timeout", type=int, default=120,
                    help="seconds one block may run")
    ap.add_argument("--index",
                    help="a page that must link to every other page given "
                    "(docs/README.md)")
    ap.add_argument("--links-only", action="store_true",
                    help="check the links only; run nothing")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    src = os.path.abspath(args.src)
    build = os.path.abspath(args.build)
    features = set(f for f in args.features.split(",") if f)
    if os.path.exists(args.scratch):
        shutil.rmtree(args.scratch)
    os.makedirs(args.scratch)

    excluded = [os.path.abspath(e) + os.sep for e in args.exclude]
    pages = []
    for p in args.pages:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                pages += [os.path.join(root, f) for f in sorted(files)
                          if f.endswith(".md")]
        else:
            pages.append(p)
    pages = [os.path.abspath(p) for p in pages]
    pages = [p for p in pages if not any(p.startswith(e) for e in excluded)]

    failures = []
    total_ran = total_skipped = 0
    if args.index:
        failures += check_index(os.path.abspath(args.index), pages, src)
    for page in pages:
        rel = os.path.relpath(page, src)
        failures += check_links(page, rel)
        if args.links_only:
            continue
        f, ran, skipped, secs = run_page(page, src, build, features,
                                         args.scratch, args.timeout,
                                         args.verbose)
        failures += f
        total_ran += ran
        total_skipped += skipped
        print("%s: %d block(s) run, %d skipped, %.1f s%s" %
              (rel, ran, skipped, secs, ", FAILED" if f else ""))
    for f in failures:
        print("FAIL: " + f)
    print("%d page(s), %d block(s) run, %d skipped, %d failure(s)" %
          (len(pages), total_ran, total_skipped, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
