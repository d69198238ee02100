#!/usr/bin/env python3
# ===- check_pass_pages.py - every pass has a page naming its options ----=== #
#
# For every qopt pass and pipeline that `qopt --help` lists, docs/passes/
# must hold a page named after the flag (without `qopt-`), and that page
# must name every option the pass has: for passes, the `-option` lines of
# the Options section that `ninja -C build qopt-doc` generates from the
# Passes.td files; for pipelines (which have no generated page), the
# `--option=` lines that `qopt --help` prints under the pipeline. A new
# pass or a new option without documentation fails, naming what is
# missing.
#
# Usage: check_pass_pages.py SRC BUILD
#
# ===---------------------------------------------------------------------=== #

import os
import re
import subprocess
import sys


def generated_options(build):
    """{flag: [option, ...]} from build/docs/*Passes.md."""
    options = {}
    for name in ("Passes.md", "ConversionPasses.md"):
        path = os.path.join(build, "docs", name)
        if not os.path.isfile(path):
            sys.exit("%s does not exist (ninja -C %s qopt-doc writes it)" %
                     (path, build))
        flag = None
        in_options = False
        for line in open(path, encoding="utf-8"):
            m = re.match(r"^### `-(qopt-[a-z0-9-]+)`", line)
            if m:
                flag, in_options = m.group(1), False
                options[flag] = []
            elif line.startswith("#### "):
                in_options = line.strip() == "#### Options"
            elif in_options and flag:
                m = re.match(r"^-([a-z0-9-]+)\s*:", line)
                if m:
                    options[flag].append(m.group(1))
    return options


def help_flags(build):
    """{flag: [option, ...]} for every qopt-* flag `qopt --help` prints."""
    out = subprocess.run([os.path.join(build, "bin", "qopt"), "--help"],
                         check=True, capture_output=True, text=True).stdout
    flags = {}
    current = None
    for line in out.split("\n"):
        m = re.match(r"^      --(\S+)\s", line)  # a pass or pipeline
        if m:
            current = m.group(1) if m.group(1).startswith("qopt-") else None
            if current:
                flags[current] = []
            continue
        m = re.match(r"^        --([a-z0-9-]+)", line)  # one of its options
        if m and current:
            flags[current].append(m.group(1))
        elif re.match(r"^ {0,4}\S", line):  # a driver option, a heading
            current = None
    return flags


def main():
    src, build = sys.argv[1], sys.argv[2]
    generated = generated_options(build)
    errors = []
    for flag, help_options in sorted(help_flags(build).items()):
        page = os.path.join(src, "docs", "passes", flag[len("qopt-"):] + ".md")
        rel = os.path.relpath(page, src)
        if not os.path.isfile(page):
            errors.append("%s: --%s has no page" % (rel, flag))
            continue
        text = open(page, encoding="utf-8").read()
        options = generated.get(flag, help_options)
        for option in options:
            if not re.search(r"(^|[\s`-])%s\b" % re.escape(option), text,
                             re.M):
                errors.append("%s: option '%s' of --%s is not named" %
                              (rel, option, flag))
        print("%s: --%s, %d option(s)" % (rel, flag, len(options)))
    for e in errors:
        print("error: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
