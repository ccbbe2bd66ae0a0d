#!/usr/bin/env python3
"""Sum test cases over meson testlog.json files and print `N passed, N failed[, N skipped]`.

Every test prints TAP, so a case is one TAP result line (`ok` / `not ok`, `# SKIP` counts as
skipped). A test whose output has no TAP results (e.g. a fuzz smoke run) counts as one case by
its meson result. A test that meson judged failed although all its TAP lines passed (it
crashed afterwards, or timed out) adds one failed case, so a failure is never hidden.
"""
import argparse
import json
import os
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b(.*)$")


def count_file(path):
    passed = failed = skipped = 0
    failures = []
    config = os.path.splitext(os.path.basename(path))[0]
    with open(path) as f:
        for raw in f:
            raw = raw.strip()
            if not raw:
                continue
            t = json.loads(raw)
            if t.get("is_parallel") is None and "name" not in t:
                continue
            name = t.get("name", "?")
            result = t.get("result", "")
            out = t.get("stdout") or ""
            p = fl = s = 0
            for line in out.splitlines():
                m = TAP.match(line)
                if not m:
                    continue
                rest = m.group(2)
                if re.search(r"#\s*skip", rest, re.I):
                    s += 1
                elif m.group(1) == "ok":
                    p += 1
                else:
                    fl += 1
                    failures.append(f"{config}: {name}:{rest}")
            if p + fl + s == 0:
                if result in ("OK", "EXPECTEDFAIL"):
                    p = 1
                elif result == "SKIP":
                    s = 1
                else:
                    fl = 1
                    failures.append(f"{config}: {name} ({result})")
            elif result not in ("OK", "EXPECTEDFAIL", "SKIP") and fl == 0:
                fl = 1
                failures.append(f"{config}: {name} ({result} after its cases passed)")
            passed += p
            failed += fl
            skipped += s
    return config, passed, failed, skipped, failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logs", nargs="*")
    ap.add_argument("--build-failures", type=int, default=0)
    a = ap.parse_args()
    tp = tf = ts = 0
    all_failures = []
    for path in a.logs:
        if not os.path.exists(path):
            continue
        config, p, f, s, fails = count_file(path)
        print(f"kit: [{config}] {p} passed, {f} failed, {s} skipped", file=sys.stderr)
        tp, tf, ts = tp + p, tf + f, ts + s
        all_failures += fails
    if a.build_failures:
        tf += a.build_failures
        all_failures.append(f"{a.build_failures} configuration(s) failed to build")
    for x in all_failures:
        print(f"kit: FAILED {x}", file=sys.stderr)
    line = f"{tp} passed, {tf} failed"
    if ts:
        line += f", {ts} skipped"
    print(line)
    return 1 if tf or tp == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
