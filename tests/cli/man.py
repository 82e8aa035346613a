#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The man page subsel.1 against the program that made it: it renders with
no groff warning, has a man page's sections, a section per command (and per
subcommand of lors) holding every line of that command's --help (each
option with its argument, help, range and default, and the synopsis), the
commands' summaries, and in ENVIRONMENT every variable `subsel --help`
lists. Skips (exit 77) without groff.

    man.py SUBSEL SUBSEL.1
"""
import re
import shutil
import subprocess
import sys

SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "ENVIRONMENT",
            "EXIT STATUS", "SEE ALSO"]
failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def norm(text):
    return " ".join(text.split())


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def rendered(page):
    """The page as plain text: {section: text}, {subsection title: text}."""
    text = run("groff", "-man", "-Tascii", "-P-cbou", page)
    sections, subsections = {}, {}
    section = subsection = None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]*$", line):
            section, subsection = line.strip(), None
            sections[section] = ""
        elif section and re.match(r"^   \S", line):
            subsection = line.strip()
            subsections[subsection] = ""
        elif section:
            sections[section] += line + "\n"
            if subsection:
                subsections[subsection] += line + "\n"
    return text, sections, subsections


def listed(help_text, heading):
    """The "  NAME  text" lines under `heading:` of a --help."""
    lines = help_text.split(heading + ":\n", 1)[1].split("\n\n", 1)[0]
    return [re.match(r"^  (\S+)\s+(.*)$", line).groups() for line in lines.splitlines()]


def check_command(subsel, words, subsections):
    """Every line of `subsel WORDS --help` in the page's section of it."""
    help_text = run(subsel, *words, "--help")
    if "\nsubcommands:\n" in help_text:
        for sub, _ in listed(help_text, "subcommands"):
            check_command(subsel, words + [sub], subsections)
        return
    title = "subsel " + " ".join(words)
    if title not in subsections:
        fail(f"no section '{title}'")
        return
    section = norm(subsections[title])
    lines = help_text.splitlines()
    usage = norm(lines[0].removeprefix("usage: "))
    wanted = [usage, norm(lines[2])]
    options = 0
    for line in lines:
        m = re.match(r"^  ((?:-\w, )?--[\w-]+(?: X)?)\s+(\S.*)$", line)
        if m:
            options += 1
            wanted += [norm(" ".join(m.groups()))]
    if options < 2:
        fail(f"{title} --help: only {options} option lines read")
    for text in wanted:
        if text not in section:
            fail(f"{title}: not in its section of the page: {text}")


def main():
    subsel, page = sys.argv[1], sys.argv[2]
    if shutil.which("groff") is None:
        print("SKIP: no groff (Debian: groff-base)")
        return 77
    warnings = subprocess.run(["groff", "-man", "-ww", "-z", page],
                              capture_output=True, text=True)
    if warnings.returncode != 0 or warnings.stderr:
        fail(f"groff -ww: exit {warnings.returncode}: {warnings.stderr}")
    text, sections, subsections = rendered(page)
    order = [s for s in sections if s in SECTIONS]
    if order != SECTIONS:
        fail(f"sections {list(sections)}, want {SECTIONS} in that order")
    version = run(subsel, "--version").strip()
    if version not in text:
        fail(f"'{version}' not on the page")

    top = run(subsel, "--help")
    description = norm(sections.get("DESCRIPTION", ""))
    commands = listed(top, "commands")
    if len(commands) < 10:
        fail(f"only {len(commands)} commands read from subsel --help")
    for name, summary in commands:
        if norm(f"{name} {summary}") not in description:
            fail(f"DESCRIPTION does not list {name}: {summary}")
        check_command(subsel, [name], subsections)
    environment = norm(sections.get("ENVIRONMENT", ""))
    variables = listed(top, "environment")
    if not any(v.startswith("SUBSEL_ISA=") for v, _ in variables):
        fail("SUBSEL_ISA not read from subsel --help")
    for variable, meaning in variables:
        if norm(f"{variable} {meaning}") not in environment:
            fail(f"ENVIRONMENT does not have {variable}: {meaning}")
    status = norm(sections.get("EXIT STATUS", ""))
    for code in ("0 done", "1 the run failed", "2 usage error"):
        if code not in status:
            fail(f"EXIT STATUS has no '{code}'")

    print(f"{len(commands)} commands, {len(subsections)} sections, "
          f"{len(variables)} variables: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
