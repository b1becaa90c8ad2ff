#!/usr/bin/env python3
"""Keeps docs/api.md's settings tables and the comments of config/*.ini equal to the settings
schema, as the built order-service prints it (--settings-reference=markdown and =ini).

  settings_docs.py --binary BIN [--docs FILE] [--ini FILE]... [--check]

Without --check: rewrites the tables between the markers of --docs, and the comment above each key
of each --ini file (its values and any paragraph set apart by a blank line stay as they are).
With --check: changes nothing; exits 1 naming each difference and how to regenerate.
Run it through scripts/settings-docs.sh."""

import argparse
import difflib
import os
import subprocess
import sys

BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"
REGENERATE = "run scripts/settings-docs.sh to regenerate them from the schema"


def reference(binary, form):
    # The service's own variables would change what it reads; the reference is of the files alone.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ORDER_SERVICE_")}
    result = subprocess.run([binary, "--settings-reference=" + form], capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        sys.exit(f"{binary} --settings-reference={form} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def with_tables(docs, tables, path):
    if BEGIN not in docs or END not in docs:
        sys.exit(f"{path}: no {BEGIN} ... {END} markers")
    start = docs.index(BEGIN) + len(BEGIN)
    return docs[:start] + "\n\n" + tables + "\n" + docs[docs.index(END):]


def key_lines(lines):
    """(line index, section, key, index of the first line of the comment right above it) per key."""
    section, comment_start = None, None
    for index, line in enumerate(lines):
        text = line.strip()
        if text.startswith((";", "#")):
            comment_start = index if comment_start is None else comment_start
            continue
        if text.startswith("[") and "]" in text:
            section = text[1:text.index("]")]
        elif "=" in text:
            yield index, section, text.split("=", 1)[0].strip(), index if comment_start is None else comment_start
        comment_start = None


def schema_comments(ini_reference):
    """(section, key) -> the comment lines the schema puts above that key."""
    lines = ini_reference.splitlines()
    return {(section, key): lines[start:index] for index, section, key, start in key_lines(lines)}


def declared(comments, section, key):
    """The schema's name of `key` (route.orders is route.<name>), or None."""
    for known_section, known in comments:
        prefix = known.split(".<", 1)[0]
        if known_section == section and (known == key or ("<" in known and key.startswith(prefix + "."))):
            return known
    return None


def checked_ini(path, text, comments, problems):
    """`text` with the schema's comment above each key; what cannot be fixed goes to `problems`."""
    lines = text.splitlines()
    replacements = []
    for index, section, key, start in key_lines(lines):
        known = declared(comments, section, key)
        if known is None:
            keys = [f"[{s}] {k}" for s, k in comments]
            near = difflib.get_close_matches(f"[{section}] {key}", keys, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            problems.append(f"{path}:{index + 1}: [{section}] {key} is not a setting of the schema{hint}")
        elif lines[start:index] != comments[(section, known)]:
            replacements.append((start, index, comments[(section, known)]))
    for start, index, comment in reversed(replacements):
        lines[start:index] = comment
    return "\n".join(lines) + "\n"


def differences(path, old, new):
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), path, path + " (from the schema)"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--docs")
    parser.add_argument("--ini", action="append", default=[])
    parser.add_argument("--check", action="store_true")
    arguments = parser.parse_args()

    files = {}
    if arguments.docs:
        with open(arguments.docs) as file:
            files[arguments.docs] = file.read()
    updated = {}
    problems = []
    if arguments.docs:
        updated[arguments.docs] = with_tables(files[arguments.docs], reference(arguments.binary, "markdown"), arguments.docs)
    comments = schema_comments(reference(arguments.binary, "ini")) if arguments.ini else {}
    for path in arguments.ini:
        with open(path) as file:
            files[path] = file.read()
        updated[path] = checked_ini(path, files[path], comments, problems)

    changed = [path for path in files if updated[path] != files[path]]
    if arguments.check:
        for path in changed:
            print(differences(path, files[path], updated[path]))
            print(f"FAIL: {path} differs from the settings schema; {REGENERATE}")
    else:
        for path in changed:
            with open(path, "w") as file:
                file.write(updated[path])
            print(f"rewrote {path}")
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems or (arguments.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
