#!/usr/bin/env python3
"""Runs every command-line example of README.md (lines starting with `battsentinel ` inside ```sh blocks)
with the freshly built binary, from the repository root, and fails on the first non-zero exit.

Usage: scripts/readme_examples.py PATH/TO/battsentinel
"""
import pathlib
import shlex
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
binary = pathlib.Path(sys.argv[1]).resolve()
lines, in_sh = [], False
for raw in (root / "README.md").read_text(encoding="utf-8").splitlines():
    if raw.startswith("```"):
        in_sh = raw.strip() == "```sh" if not in_sh else False
        continue
    if in_sh and raw.startswith("battsentinel "):
        lines.append(raw.split(" #")[0].strip())
if not lines:
    sys.exit("README.md has no `battsentinel` examples")
failed = 0
for cmd in lines:
    argv = [str(binary)] + shlex.split(cmd)[1:]
    res = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=600)
    status = "ok" if res.returncode == 0 else f"FAILED (exit {res.returncode})"
    print(f"README example: {cmd} ... {status}")
    if res.returncode != 0:
        failed += 1
        print(res.stdout[-2000:], res.stderr[-2000:], sep="\n")
print(f"{len(lines) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
