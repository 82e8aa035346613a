#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""docs/cli.md against the program it documents (issue 16). For every
command `subsel --help` lists (and every subcommand a command's --help lists,
as `lors buffer`), the page must have a section headed `subsel <command>`
whose option tables (a table whose first column is headed "option", plus the
tables of the in-page sections headed "Options ..." it links to) name exactly
the options of `subsel <command> --help`: the same long names, the same short
ones, a value placeholder for each option that takes one and none for a flag,
and the default --help shows ("required", or "off" for a flag). Every command
without subcommands has a worked example in its section (a `$ subsel
<command> ...` line in a code block), and every `$ ... subsel ...` line of
the page names a real command and only options it has. A page section for a
command that does not exist fails too. Each problem is printed naming the
command and the option; the exit status is 1 if there is any.

    check_cli_docs.py SUBSEL docs/cli.md
"""
import re
import shlex
import subprocess
import sys

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
COMMAND_HEADING = re.compile(r"^`subsel ([a-z0-9-]+(?: [a-z0-9-]+)?)`$")
HELP_OPTION = re.compile(r"^  (?:-([A-Za-z]), )?--([a-z0-9-]+)( X)?\s+(.*)$")
DOC_LONG = re.compile(r"`--([a-z0-9-]+)")
DOC_SHORT = re.compile(r"`-([A-Za-z])`")
SHELL_STOP = ("|", "||", "&&", ";", "&")


def run_help(subsel, words):
    out = subprocess.run([subsel] + words + ["--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True)
    if out.returncode != 0:
        sys.exit("subsel %s --help exited %d: %s" % (" ".join(words), out.returncode, out.stderr))
    return out.stdout


def listed(help_text, title):
    """The names of the block `title:` of a --help ("commands", "subcommands")."""
    names, inside = [], False
    for line in help_text.splitlines():
        if line == title + ":":
            inside = True
        elif inside and line.startswith("  ") and line.strip():
            names.append(line.split()[0])
        elif inside:
            break
    return names


def help_options(help_text):
    """{long name: (short letter or None, takes a value, default as shown)}
    of a command's --help; the default is "required", "off" for a flag, or
    what follows "(default: ")."""
    options = {}
    for line in help_text.splitlines():
        m = HELP_OPTION.match(line)
        # --help and --quiet: every command's, documented once in the
        # shared rules (checked in main)
        if not m or m.group(2) in ("help", "quiet"):
            continue
        short, name, value, rest = m.groups()
        if rest.endswith(" (required)"):
            default = "required"
        elif " (default: " in rest and rest.endswith(")"):
            default = rest[rest.index(" (default: ") + len(" (default: "):-1]
        elif value:
            default = None  # a value without a default shown: options.sh catches it
        else:
            default = "off"
        options[name] = (short, bool(value), default)
    return options


def anchor(title):
    """GitHub's anchor of a heading."""
    title = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return title.replace(" ", "-")


def sections(lines):
    """[(level, title, first line, end line)]: a section ends at the next
    heading of its level or above, or at the next command heading."""
    heads = []
    fence = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else HEADING.match(line)
        if m:
            heads.append((len(m.group(1)), m.group(2), i))
    out = []
    for j, (level, title, start) in enumerate(heads):
        end = len(lines)
        for level2, title2, start2 in heads[j + 1:]:
            if level2 <= level or COMMAND_HEADING.match(title2):
                end = start2
                break
        out.append((level, title, start + 1, end))
    return out


def split_row(line):
    """The cells of a table row; `\\|` is a | inside a cell."""
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


def option_rows(lines):
    """[(line number, long name, short letter or None, argument, default)] of
    the option tables in lines (first column headed "option")."""
    rows, columns = [], None
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            columns = None
            continue
        cells = split_row(line)
        if columns is None:
            columns = [c.lower() for c in cells] if cells[0].lower() == "option" else []
            continue
        if not columns or set("".join(cells)) <= set("-: "):
            continue
        cell = dict(zip(columns, cells))
        longs = DOC_LONG.findall(cells[0])
        shorts = DOC_SHORT.findall(cells[0])
        for name in longs:
            rows.append((i, name, shorts[0] if shorts else None,
                         cell.get("argument", "").strip("` "),
                         cell.get("default", "").replace("`", "").strip()))
    return rows


def invocations(lines):
    """[(line number, [words after `subsel`])] of the `$ ` lines of the code
    blocks, continuation lines joined."""
    out, fence, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            fence = not fence
        elif fence and line.startswith("$ "):
            start, text = i, line[2:]
            while text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text[:-1] + " " + lines[i].strip()
            try:
                words = shlex.split(text)
            except ValueError as e:
                out.append((start, None, str(e)))
                i += 1
                continue
            for k, w in enumerate(words):
                if w == "subsel" or w.endswith("/subsel"):
                    rest = []
                    for v in words[k + 1:]:
                        if v in SHELL_STOP or v[:1] in ("<", ">") or v.startswith("2>"):
                            break
                        if v.endswith(";"):
                            rest.append(v[:-1])
                            break
                        rest.append(v)
                    out.append((start, rest, None))
        i += 1
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    subsel, doc = sys.argv[1], sys.argv[2]
    with open(doc, encoding="utf-8") as f:
        lines = f.read().split("\n")
    problems = []

    def problem(line, text):
        problems.append("%s:%d: %s" % (doc, line + 1, text))

    # the program's commands, subcommands and options
    commands = {}  # "lors buffer" -> options, "lors" -> None (has subcommands)
    helps = {}  # the --help of every command and subcommand with options
    for name in listed(run_help(subsel, []), "commands"):
        text = run_help(subsel, [name])
        subs = listed(text, "subcommands")
        commands[name] = None if subs else help_options(text)
        if not subs:
            helps[name] = text
        for sub in subs:
            helps[name + " " + sub] = run_help(subsel, [name, sub])
            commands[name + " " + sub] = help_options(helps[name + " " + sub])

    # a --help whose layout this script no longer reads must not pass as agreement
    if not commands or not any(commands.values()):
        sys.exit("no commands or no options read from `%s --help`: has its layout changed?"
                 % subsel)

    # the options every command takes, once in the shared rules
    for name in ("quiet", "help"):
        for cmd, help_text in helps.items():
            if not re.search(r"^  (?:-\w, )?--%s\b" % name, help_text, re.M):
                problem(0, "`subsel %s --help` has no --%s, which the page says every command takes"
                        % (cmd, name))
        if "`--%s`" % name not in "\n".join(lines[:lines.index("## Options of the selecting commands")]):
            problem(0, "the shared rules do not document --%s, which every command takes" % name)

    secs = sections(lines)
    by_anchor = {anchor(title): (start, end) for _, title, start, end in secs}
    documented = {}
    for level, title, start, end in secs:
        m = COMMAND_HEADING.match(title)
        if not m:
            continue
        name = m.group(1)
        if name in documented:
            problem(start - 1, "`subsel %s` has two sections" % name)
        documented[name] = (start, end)
        if name not in commands:
            problem(start - 1, "a section for `subsel %s`, which `subsel --help` does not list"
                    % name)

    for name, options in commands.items():
        if name not in documented:
            problem(0, "`subsel %s` has no section (a heading `subsel %s`)" % (name, name))
            continue
        start, end = documented[name]
        body = lines[start:end]
        rows = [(start + i, n, s, a, d) for i, n, s, a, d in option_rows(body)]
        # the shared tables the section links to ("Options of the selecting commands")
        for target in sorted(set(re.findall(r"\]\(#([a-z0-9-]+)\)", "\n".join(body)))):
            if target.startswith("options") and target in by_anchor:
                s0, e0 = by_anchor[target]
                rows += [(s0 + i, n, s, a, d) for i, n, s, a, d in option_rows(lines[s0:e0])]
        if options is None:  # a command of subcommands: each has its section
            if rows:
                problem(start - 1, "`subsel %s` has subcommands: its options belong in theirs" % name)
            continue
        seen = set()
        for line, opt, short, argument, default in rows:
            if opt in seen:
                problem(line, "`subsel %s`: --%s is documented twice" % (name, opt))
            seen.add(opt)
            if opt not in options:
                problem(line, "`subsel %s`: --%s is documented but not in `subsel %s --help`"
                        % (name, opt, name))
                continue
            h_short, h_value, h_default = options[opt]
            if short != h_short:
                problem(line, "`subsel %s`: --%s: short option %s in the page, %s in --help"
                        % (name, opt, "-" + short if short else "none",
                           "-" + h_short if h_short else "none"))
            if h_value and argument in ("", "—", "-"):
                problem(line, "`subsel %s`: --%s takes a value: give its argument" % (name, opt))
            if not h_value and argument not in ("", "—", "-"):
                problem(line, "`subsel %s`: --%s is a flag, it takes no argument" % (name, opt))
            if h_default is not None and default != h_default:
                problem(line, "`subsel %s`: --%s: default '%s' in the page, '%s' in --help"
                        % (name, opt, default, h_default))
        for opt in options:
            if opt not in seen:
                problem(start - 1, "`subsel %s`: --%s is in `subsel %s --help` but not in its section"
                        % (name, opt, name))
        # a worked example in the section
        if not any(words is not None and (" ".join(words) + " ").startswith(name + " ")
                   for _, words, _ in invocations(body)):
            problem(start - 1, "`subsel %s` has no worked example (a `$ subsel %s ...` line in a "
                    "code block of its section)" % (name, name))

    # every example line names a command and options it has
    for line, words, error in invocations(lines):
        if words is None:
            problem(line, "cannot split the command line: %s" % error)
            continue
        if not words or words[0].startswith("-"):
            continue  # subsel --help, subsel --version
        name = words[0]
        if name not in commands:
            problem(line, "an example runs `subsel %s`, which `subsel --help` does not list"
                    % name)
            continue
        args = words[1:]
        if commands[name] is None:
            if not args or args[0].startswith("-"):
                continue  # subsel lors --help
            name = name + " " + args[0]
            args = args[1:]
            if name not in commands:
                problem(line, "an example runs `subsel %s`, which is not a subcommand" % name)
                continue
        options = commands[name]
        shorts = {s: n for n, (s, _, _) in options.items() if s}
        for w in args:
            if w.startswith("--") and len(w) > 2:
                opt = w[2:].split("=", 1)[0]
                if opt != "help" and opt not in options:
                    problem(line, "an example of `subsel %s` gives --%s, which it does not have"
                            % (name, opt))
            elif re.fullmatch(r"-[A-Za-z]", w) and w[1] != "h" and w[1] not in shorts:
                problem(line, "an example of `subsel %s` gives %s, which it does not have"
                        % (name, w))

    if problems:
        print("\n".join(problems))
        print("%d problem(s): docs/cli.md and the program's --help disagree" % len(problems))
        return 1
    checked = sum(len(o) for o in commands.values() if o is not None)
    print("docs/cli.md: %d commands, %d options, the same as --help" % (len(commands), checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
