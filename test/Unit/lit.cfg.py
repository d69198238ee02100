# -*- Python -*-
# Runs every GoogleTest binary in build/test/unittests through lit, so each
# TEST() counts as one lit test in the same `N passed, N failed` total.

import os

import lit.formats

config.name = "QOPT-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.qopt_obj_root, "test", "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
