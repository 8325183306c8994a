#!/usr/bin/env python3
"""Compares the committed sqlx offline data with the data the query macros just wrote.

    scripts/sqlx-compare.py COMMITTED FRESH

COMMITTED is .sqlx; FRESH is the SQLX_OFFLINE_DIR of a build whose query macros ran online
against a freshly migrated database (scripts/test.sh). The check `cargo sqlx prepare --check`
makes, without the check build of its own that it needs: a query without committed data, data
that differs (compared as JSON), or committed data no query uses is named and fails the check.
"""

import json
import sys
from pathlib import Path


def load(directory: Path) -> dict:
    return {p.name: json.loads(p.read_text()) for p in sorted(directory.glob("query-*.json"))}


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    committed, fresh = (load(Path(arg)) for arg in sys.argv[1:3])
    if not fresh:
        print(f"no query data was written to {sys.argv[2]}: did the query macros run?", file=sys.stderr)
        return 1
    problems = []
    for name in sorted(fresh.keys() - committed.keys()):
        problems.append(f"missing from .sqlx: {name} ({fresh[name].get('query', '')[:80]!r})")
    for name in sorted(committed.keys() - fresh.keys()):
        problems.append(f"unused, in .sqlx only: {name}")
    for name in sorted(fresh.keys() & committed.keys()):
        if fresh[name] != committed[name]:
            problems.append(f"differs from the database's answer: {name}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {len(fresh)} queries, each with the same data as in .sqlx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
