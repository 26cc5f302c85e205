#!/usr/bin/env python3
"""What the user sees: on a real terminal (a pseudo-terminal here) a live
block redrawn in place with counts and one line per running job; through a
pipe, one timestamped line per event and no escape sequences; at the end a
summary table on stdout either way. Colors only on the terminal, and not
with NO_COLOR."""
import os
import pty
import re
import select
import subprocess
import time
import unittest

import drayt


class ViewTest(drayt.DrayTestCase):
    def write_images(self):
        for i in range(3):
            drayt.write_image(self.tmp, f"v{i}", [
                "FROM scratch", "COPY busybox /bin/busybox", "COPY id.txt /id.txt",
                'RUN ["/bin/busybox", "sleep", "1"]'])

    def run_on_terminal(self, **extra_env):
        argv = [a if a != "plain" else "auto" for a in self.dray_argv("run", "-j", "2", "-p", "1",
                                                                     "--network", "none", ".")]
        master, slave = pty.openpty()
        env = self.env()
        env["TERM"] = "xterm"
        env.update(extra_env)
        proc = subprocess.Popen(argv, env=env, cwd=self.tmp, stdin=slave, stdout=slave,
                                stderr=slave, close_fds=True)
        os.close(slave)
        out = b""
        deadline = time.time() + 120
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=30)
        os.close(master)
        text = out.decode(errors="replace")
        self.assertEqual(proc.returncode, 0, text)
        return text

    def test_live_view_on_a_terminal(self):
        self.write_images()
        text = self.run_on_terminal()
        # Colors on a terminal: the words that matter, in the view and the table.
        self.assertRegex(text, "\x1b\\[32mpushed +\x1b\\[0m v\\d")
        self.assertRegex(text, "v\\d +\x1b\\[32mpushed +\x1b\\[0m +\\d")
        text = re.sub("\x1b\\[\\d*m", "", text)
        self.assertIn("\x1b[J", text)                       # erase, then redraw in place
        self.assertRegex(text, "\x1b\\[\\d+A")               # cursor up over the block
        self.assertRegex(text, r"\[\s*\d+\.\ds\] 3 images: .*\d+ building")
        self.assertRegex(text, r"building\s+v\d\s+\d+\.\ds")
        self.assertRegex(text, r"pushed\s+v\d\s+sha256:")
        self.assertIn("IMAGE", text)
        self.assertNotRegex(text, r"\d{4}-\d\d-\d\dT")      # no event timestamps on a TTY

    def test_no_color_on_a_terminal(self):
        self.write_images()
        text = self.run_on_terminal(NO_COLOR="1")
        self.assertIn("\x1b[J", text)                       # still the live block
        self.assertNotRegex(text, "\x1b\\[\\d*m")           # but no colors
        self.assertRegex(text, r"pushed\s+v\d\s+sha256:")

    def test_plain_lines_through_a_pipe(self):
        self.write_images()
        p = self.run_dray("run", "-j", "2", "-p", "1", "--network", "none", ".")
        self.assertEqual(p.returncode, 0, self.explain())
        self.assertNotIn("\x1b[", p.stderr)
        lines = p.stderr.strip().splitlines()
        for line in lines:
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+")
        events = [line.split()[1:3] for line in lines]
        for i in range(3):
            for ev in ("build-started", "built", "push-started", "pushed"):
                self.assertIn([ev, f"v{i}"], events)
        # The table: one row per image with its status and digest.
        for i in range(3):
            self.assertRegex(p.stdout, rf"v{i}\s+pushed\s+\d+\.\ds\s+\d+\.\ds\s+1/1\s+sha256:[0-9a-f]{{12}}")
        self.assertIn("3 images in", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
