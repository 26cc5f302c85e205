#!/usr/bin/env python3
"""A whole run (build, push through the Engine API, verify, report) under
valgrind's memcheck: no invalid access, no definite leak. Skipped in the
sanitizer build, where ASan and UBSan do this job."""
import os
import shutil
import subprocess
import unittest

import drayt


@unittest.skipIf(os.environ.get("DRAY_SANITIZED") == "1", "sanitizer build: ASan checks instead")
@unittest.skipIf(shutil.which("valgrind") is None, "valgrind not installed")
class ValgrindTest(drayt.DrayTestCase):
    def test_run_is_memcheck_clean(self):
        drayt.write_image(self.tmp, "base")
        drayt.write_child_image(self.tmp, "child", f"{self.registry}/base:latest")
        drayt.write_image(self.tmp, "other")
        vg_log = os.path.join(self.tmp, "valgrind.log")
        argv = ["valgrind", "--error-exitcode=97", "--leak-check=full",
                "--errors-for-leak-kinds=definite", f"--log-file={vg_log}",
                *self.dray_argv("run", "-j", "2", "-p", "2", "--network", "none", ".")]
        p = subprocess.run(argv, env=self.env(), cwd=self.tmp, capture_output=True, text=True,
                           timeout=600)
        with open(vg_log) as f:
            log = f.read()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + log)
        self.assertIn("ERROR SUMMARY: 0 errors", log)
        report = self.load_report()
        self.assertEqual(report["counts"]["done"], 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
