#!/usr/bin/env python3
"""Prints lit's JSON report as one line: `N passed, N failed, N skipped`.

Passed counts PASS and XFAIL, failed counts FAIL, XPASS, UNRESOLVED and
TIMEOUT, skipped counts UNSUPPORTED. Exits 1 when anything failed, when lit
itself failed, or when no test ran.
"""
import json
import sys

PASSED = {"PASS", "XFAIL", "FLAKYPASS"}
SKIPPED = {"UNSUPPORTED", "SKIPPED", "EXCLUDED"}


def main():
    path, lit_status = sys.argv[1], int(sys.argv[2])
    try:
        with open(path) as f:
            tests = json.load(f).get("tests", [])
    except (OSError, ValueError) as err:
        print(f"cannot read lit results {path}: {err}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    passed = sum(t["code"] in PASSED for t in tests)
    skipped = sum(t["code"] in SKIPPED for t in tests)
    failed = len(tests) - passed - skipped
    if lit_status != 0 and failed == 0:
        failed = 1  # lit failed without a failing test: count it
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
