"""python -m heron sync <dir>: upload an offline (or interrupted) run directory."""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from . import __version__
from ._http import HeronError
from ._sync import run_dirs, sync_run_dir


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heron", description="Heron Python client")
    parser.add_argument("--version", action="version", version=f"heron-client {__version__}")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("sync", help="upload a run directory (or a directory of run directories) to a Heron server")
    p.add_argument("dir", help="the run directory (<dir>/<run id>) or a directory that holds run directories")
    p.add_argument("--host", help="server URL (default HERON_HOST, then the URL the run was started with)")
    p.add_argument("--api-key", help="API key (default HERON_API_KEY)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the server per writer (default 600)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if args.command != "sync":
        parser.print_help()
        return 2
    failed = False
    results = []
    try:
        dirs = run_dirs(args.dir)
    except HeronError as e:
        print(f"heron sync: {e}", file=sys.stderr)
        return 1
    for d in dirs:
        try:
            r = sync_run_dir(d, host=args.host, api_key=args.api_key, timeout=args.timeout)
        except HeronError as e:
            failed = True
            print(f"heron sync: {d}: {e}", file=sys.stderr)
            continue
        results.append(r)
        if not args.json:
            sent = sum(w.get("sent", 0) for w in r["writers"])
            skipped = [w for w in r["writers"] if w.get("skipped")]
            print(f"synced run {r['runId']}: {sent} batch{'es' if sent != 1 else ''} sent — {r['url']}")
            for w in skipped:
                print(f"  skipped writer {w['writer']}: {w['skipped']}")
    if args.json:
        print(json.dumps(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
