# SPDX-License-Identifier: MIT
"""Progress on standard error (issue 16): --quiet in every command leaves
standard error empty; without a terminal the commands print plain lines
(no carriage returns); on a terminal (a pseudo-terminal here) a bar is
redrawn in place with carriage returns, its rate and the time left, and
ends with a newline. Exits 77 without NumPy.

    progress.py SUBSEL
"""
import json
import os
import pty
import re
import subprocess
import sys
import tempfile

try:
    import numpy  # noqa: F401  (every_command makes its inputs with it)
except ImportError:
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from every_command import DATA, runs  # noqa: E402


def on_terminal(argv, env):
    """Runs argv with standard error on a pseudo-terminal; returns its exit
    status, standard output and what reached the terminal."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=slave, env=env)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the program
            break
        if not chunk:
            break
        err += chunk
    out = p.stdout.read()
    p.wait()
    os.close(master)
    return p.returncode, out, err.decode()


def main():
    subsel = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        # --quiet: nothing on stderr, for every command; a summary still
        all_runs = runs(tmp)
        for name, argv, _ in all_runs:
            p = subprocess.run([subsel, *argv, "--quiet"], capture_output=True, text=True)
            assert p.returncode == 0, (name, p.returncode, p.stderr)
            assert p.stderr == "", (name, p.stderr)
            assert json.loads(p.stdout)["command"] == name
        print(f"--quiet: stderr empty in {len(all_runs)} commands")
        for bad in (["--quiet", "--quiet"], ["--quiet=1"]):
            p = subprocess.run([subsel, "fb", *bad], capture_output=True, text=True)
            assert p.returncode == 2 and "--quiet" in p.stderr, (bad, p.stderr)
        help_text = subprocess.run([subsel, "tarot", "--help"], capture_output=True,
                                   text=True).stdout
        assert "--quiet" in help_text, help_text

        # no terminal: plain lines (encode reports its last batch always)
        enc = dict((n, a) for n, a, _ in all_runs)["encode"]
        p = subprocess.run([subsel, *enc], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert re.search(r"^subsel encode: encode 300/300 rows", p.stderr, re.M), p.stderr
        assert "\r" not in p.stderr and "\033" not in p.stderr, repr(p.stderr)

        # a terminal: a bar per stage, redrawn with \r, with a rate and
        # the time left, each ended by a newline; no plain lines
        uni = os.path.join(DATA, "uniprot")
        argv = [subsel, "uniprot", "--source", os.path.join(uni, "source.npy"), "--target",
                os.path.join(uni, "target.npy"), "-k", "30", "--gain", "exact",
                "-o", os.path.join(tmp, "u.npy")]
        env = dict(os.environ, SUBSEL_PROGRESS_DELAY="0")
        status, out, err = on_terminal(argv, env)
        assert status == 0, (status, err)
        assert json.loads(out)["selected"] == 30
        bars = [b for b in re.split(r"[\r\n]+", err) if b]
        select = [b for b in bars if b.startswith("subsel uniprot: select [")]
        assert select, repr(err)
        running = [b for b in select if " ETA " in b]
        assert running, ("no bar with the time left", repr(err))
        for b in running:
            assert re.search(r"\[[#-]{24}\] \d+/30 +\d+% [0-9.]+[kMGTP]?/s ETA (\d+:\d\d|\?)",
                             b), b
        assert re.search(r"select \[#{24}\] 30/30 100% [0-9.]+[kMGTP]?/s in \d+:\d\d", err), \
            repr(err)
        assert len(select) >= 2, ("the select bar was not redrawn", repr(err))
        # redrawn in place: bars begin with \r, and fewer lines end than bars
        # are drawn (the terminal writes a newline as \r\n)
        assert err.count("\rsubsel uniprot: ") > err.count("\n"), repr(err)
        assert err.endswith("\n") or err.endswith("\n\x1b[K"), repr(err[-40:])
        assert not re.search(r"^subsel uniprot: select \d+/\d+", err, re.M), repr(err)
        # a terminal and --quiet: nothing
        status, out, err = on_terminal(argv + ["--quiet"], env)
        assert status == 0 and err == "", (status, repr(err))
        print("terminal: bar with rate and ETA; --quiet silent")


if __name__ == "__main__":
    main()
