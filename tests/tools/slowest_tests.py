#!/usr/bin/env python3
"""Prints the slowest tests of a ctest run, from its log.

    slowest_tests.py LOG [COUNT]      e.g. LOG = build/Testing/Temporary/LastTest.log

ctest runs it after every run (CTEST_CUSTOM_POST_TEST, tests/CTestCustom.cmake.in), while the
run's log is still LOG.tmp: ctest renames it to LOG only after its post-test commands, so LOG.tmp
is read when it exists. It never fails: a run that wrote no log prints nothing.
"""
import re
import sys

STARTED = re.compile(r"^\d+/\d+ Test: (.+)$")
TIMED = re.compile(r"^Test time = +([0-9.]+) sec$")


def durations(log):
    """(seconds, name) of each test the log records."""
    found, name = [], None
    for line in log.splitlines():
        if started := STARTED.match(line):
            name = started.group(1)
        elif (timed := TIMED.match(line)) and name is not None:
            found.append((float(timed.group(1)), name))
            name = None
    return found


def main():
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    tests = []
    for log in (sys.argv[1] + ".tmp", sys.argv[1]):
        try:
            with open(log, encoding="utf-8", errors="replace") as file:
                tests = durations(file.read())
            break
        except OSError:
            continue
    if not tests:
        return 0
    print(f"\nThe {min(count, len(tests))} slowest of {len(tests)} tests ({sum(t for t, _ in tests):.0f} s in all):")
    for seconds, name in sorted(tests, reverse=True)[:count]:
        print(f"  {seconds:7.2f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
