#!/usr/bin/env python3
"""Independent judge for the grammar tests: JSON parsing by Python's json module, JSON Schema
validation by the jsonschema package (Draft 2020-12), formats checked here by the standard
library, and GBNF test grammars checked by their own parsers.

Usage: validate_json.py REQUEST.json RESULT.json
REQUEST: [{"schema": {...}, "documents": ["<json text>", ...]}
          | {"language": "arithmetic"|"csv"|"date", "documents": [...]}, ...]
RESULT:  [[true|false, ...], ...] (one verdict per document).
"""
import ast
import csv
import datetime
import io
import json
import re
import sys
import uuid

import jsonschema

checker = jsonschema.FormatChecker(formats=())


@checker.checks("date")
def is_date(s):
    if not isinstance(s, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return False
    try:
        datetime.date.fromisoformat(s)
    except ValueError:
        return False
    return True


TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))")


@checker.checks("time")
def is_time(s):
    if not isinstance(s, str):
        return True
    m = TIME.fullmatch(s)
    if not m:
        return False
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if hour > 23 or minute > 59 or second > 60:
        return False
    if m.group(6) is not None and (int(m.group(6)) > 23 or int(m.group(7)) > 59):
        return False
    return True


@checker.checks("date-time")
def is_date_time(s):
    if not isinstance(s, str):
        return True
    parts = re.split(r"[Tt]", s)
    return len(parts) == 2 and is_date(parts[0]) and is_time(parts[1])


@checker.checks("uuid")
def is_uuid(s):
    if not isinstance(s, str):
        return True
    try:
        uuid.UUID(s)
    except ValueError:
        return False
    return len(s) == 36 and all(s[i] == "-" for i in (8, 13, 18, 23))


def parse_json(text):
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def arithmetic(text):
    # expr ::= term (("+" | "-") term)*, term ::= factor (("*" | "/") factor)*,
    # factor ::= [0-9]+ | "(" expr ")": Python's own parser, then only these node kinds.
    if not re.fullmatch(r"[0-9+\-*/()]+", text):
        return False
    # Python refuses leading zeros ("007"), which the grammar allows: drop them first.
    text = re.sub(r"[0-9]+", lambda m: str(int(m.group())), text)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    allowed = (ast.Expression, ast.BinOp, ast.Constant, ast.Add, ast.Sub, ast.Mult, ast.Div)
    return all(isinstance(n, allowed) for n in ast.walk(tree))  # no unary minus, calls, …


def csv_line(text):
    # Three fields: a name (letters and spaces, or quoted with "" escapes), an integer, a
    # decimal; then a newline.
    if not text.endswith("\n") or text.count("\n") != 1:
        return False
    rows = list(csv.reader(io.StringIO(text), strict=True))
    if len(rows) != 1 or len(rows[0]) != 3:
        return False
    name, count, price = rows[0]
    raw_name = text.split(",")[0]
    if not raw_name.startswith('"') and not re.fullmatch(r"[A-Za-z ]+", name):
        return False
    return bool(re.fullmatch(r"-?[0-9]+", count) and re.fullmatch(r"[0-9]+\.[0-9]{2}", price))


def date_text(text):
    return is_date(text)


LANGUAGES = {"arithmetic": arithmetic, "csv": csv_line, "date": date_text}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    result = []
    for case in request:
        verdicts = []
        if "language" in case:
            check = LANGUAGES[case["language"]]
            verdicts = [bool(check(d)) for d in case["documents"]]
        else:
            validator = jsonschema.Draft202012Validator(case["schema"], format_checker=checker)
            for text in case["documents"]:
                ok, value = parse_json(text)
                verdicts.append(ok and validator.is_valid(value))
        result.append(verdicts)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
