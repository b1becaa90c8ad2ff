#!/usr/bin/env python3
"""Checks the responses the end-to-end tests received against docs/openapi.json.

    check_responses.py DOCUMENT RECORD_DIR [--minimum N] [--require "METHOD /path" ...] [--set POINTER=JSON ...]
                       [--stop-at-first-failure]

RECORD_DIR holds the files the tests' HttpClient writes when OPENAPI_RECORD_DIR is set (one JSON
object a line: method, target, status, content_type, body). For each response of a documented
operation: its status must be documented for that operation, its content type, parameters
included (as a client that compares the whole header, such as dredd, sees it), among the
documented ones, and its body valid against the documented schema (JSON Schema 2020-12, with
python3-jsonschema). Responses of routes the document does not describe (the tests' echo plugin)
are skipped. Fails when fewer than N responses were checked, or none of an operation --require names.

--set changes the document before checking (a JSON pointer and a JSON value): the tests use it to
show that a wrong schema fails the check, which --stop-at-first-failure then shows without reading
every record. The record files are checked on every CPU at once.
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import sys
import warnings

import jsonschema

warnings.filterwarnings("ignore", category=DeprecationWarning)  # RefResolver: the API Debian's 4.10 has


def set_pointer(document, pointer, value):
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/")]
    target = document
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[parts[-1]] = value


def base_media_type(content_type):
    return content_type.split(";")[0].strip().lower()


def media_type(content_type):
    """`content_type` with its parameters, spelt one way: lower case, no spaces around ';' and '='."""
    parts = [part.strip().lower() for part in content_type.split(";")]
    return "; ".join([parts[0]] + ["=".join(side.strip() for side in part.split("=", 1)) for part in parts[1:] if part])


def path_matcher(template):
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def follow(document, node):
    """`node` with its $ref (local, '#/...') followed, as often as needed."""
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


class Checker:
    def __init__(self, document):
        self.document = document
        self.operations = [(path_matcher(path), path, item) for path, item in document["paths"].items()]
        self.resolver = jsonschema.RefResolver.from_schema(document)
        self.validators = {}
        self.verdicts = {}

    def operation(self, method, target):
        path = target.split("?", 1)[0]
        for matcher, template, item in self.operations:
            if matcher.match(path) and method.lower() in item:
                return template, item[method.lower()]
        return None, None

    def validator(self, schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in self.validators:
            self.validators[key] = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        return self.validators[key]

    def problems(self, record):
        """The operation ("GET /orders/{id}") and what is wrong with one recorded response; None
        when its route is not documented."""
        template, operation = self.operation(record["method"], record["target"])
        if operation is None:
            return None
        where = f'{record["method"]} {record["target"]} -> {record["status"]}'
        # The load tests send the same answer thousands of times (a 503, an order's 201): a
        # response is judged once per operation, status, content type and body, what decides it.
        key = (record["method"], template, record["status"], record["content_type"], record["body"])
        if key not in self.verdicts:
            self.verdicts[key] = self.judge(record, template, operation)
        return f'{record["method"]} {template}', [f"{where}: {problem}" for problem in self.verdicts[key]]

    def judge(self, record, template, operation):
        """What is wrong with a response of `operation`, without saying where it came from."""
        responses = operation.get("responses", {})
        response = responses.get(str(record["status"])) or responses.get("default")
        if response is None:
            return [f"status not documented for {record['method']} {template}"]
        response = follow(self.document, response)
        content = response.get("content", {})
        body = record["body"]
        if not content:
            return [f"undocumented body {body[:200]!r}"] if body else []
        if record["method"] == "HEAD":
            return []
        served = media_type(record["content_type"])
        documented = {media_type(name): value for name, value in content.items()}
        if served not in documented:
            return [f"content type {served!r}, documented: {sorted(documented)}"]
        schema = documented[served].get("schema")
        if schema is None:
            return []
        if base_media_type(served).endswith("json"):
            try:
                instance = json.loads(body)
            except ValueError as error:
                return [f"body is not JSON ({error}): {body[:200]!r}"]
        else:
            instance = body
        errors = sorted(self.validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [f"{error.message[:300]} at {list(error.absolute_path)}" for error in errors[:3]]


def check_file(checker, name, stop_at_first_failure=False):
    """How many of the file's records were checked and skipped, what was wrong with them, and how
    many responses each operation had."""
    checked, skipped, failures, operations = 0, 0, collections.Counter(), collections.Counter()
    with open(name, encoding="utf-8") as file:
        for line in file:
            if not line.strip():
                continue
            result = checker.problems(json.loads(line))
            if result is None:
                skipped += 1
                continue
            checked += 1
            operations[result[0]] += 1
            failures.update(result[1])
            if failures and stop_at_first_failure:
                break
    return checked, skipped, failures, operations


worker_checker = None


def start_worker(document):
    global worker_checker
    worker_checker = Checker(document)


def check_in_worker(name):
    return check_file(worker_checker, name)


def check_files(document, names, stop_at_first_failure):
    """(checked, skipped, failures, operations) of the files: one after another up to the first failure, or
    spread over every CPU, each keeping its judgements for the files it gets next."""
    if stop_at_first_failure:
        checker = Checker(document)
        results = []
        for name in names:
            results.append(check_file(checker, name, stop_at_first_failure=True))
            if results[-1][2]:
                break
    else:
        with concurrent.futures.ProcessPoolExecutor(len(os.sched_getaffinity(0)), initializer=start_worker,
                                                    initargs=(document,)) as pool:
            results = list(pool.map(check_in_worker, names))
    failures, operations = collections.Counter(), collections.Counter()
    for _, _, found, seen in results:
        failures.update(found)
        operations.update(seen)
    return sum(r[0] for r in results), sum(r[1] for r in results), failures, operations


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("document")
    parser.add_argument("record_dir")
    parser.add_argument("--minimum", type=int, default=1)
    parser.add_argument("--require", action="append", default=[], metavar="OPERATION",
                        help='an operation ("GET /metrics") whose responses must have been recorded')
    parser.add_argument("--set", action="append", default=[], metavar="POINTER=JSON")
    parser.add_argument("--stop-at-first-failure", action="store_true")
    args = parser.parse_args()

    with open(args.document, encoding="utf-8") as file:
        document = json.load(file)
    for assignment in args.set:
        pointer, value = assignment.split("=", 1)
        set_pointer(document, pointer, json.loads(value))

    names = sorted(glob.glob(os.path.join(args.record_dir, "*.jsonl")))
    checked, skipped, failures, operations = check_files(document, names, args.stop_at_first_failure)

    for problem, count in failures.most_common(30):
        print(f"FAIL ({count}x) {problem}")
    print(f"check_responses: {checked} responses checked against {args.document}, {skipped} of undocumented "
          f"routes skipped, {sum(failures.values())} failures")
    if checked < args.minimum:
        print(f"check_responses: fewer than {args.minimum} responses recorded in {args.record_dir}: "
              "run the e2e tests with OPENAPI_RECORD_DIR set first")
        return 1
    unchecked = [operation for operation in args.require if operations[operation] == 0]
    if unchecked:
        print(f"check_responses: no response recorded for {', '.join(unchecked)}: no e2e test declared "
              "RECORD_RESPONSES calls it")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
