"""Run every benchmark in this folder, one after another (``make bench``).

    python benchmarks/run_all.py [--quick] [--threads N] [--rounds R] [--warmup W] [--no-pin]

The options are passed to every script (see ``common.add_arguments``); ``--quick`` is the smoke
run (small sizes, 2 rounds, a few seconds per script), the default the measurement (one thread
per pool for ours and the baselines alike, pinned to one core, 5 interleaved rounds). A script
that fails is reported and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import runpy
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    options, failed = sys.argv[1:], []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"--- {script.name} {' '.join(options)}", flush=True)
        sys.argv = [str(script), *options]
        start = time.perf_counter()
        try:
            runpy.run_path(str(script), run_name="__main__")
        except (Exception, SystemExit) as exc:  # report it, run the others
            if not (isinstance(exc, SystemExit) and exc.code in (None, 0)):
                traceback.print_exc()
                failed.append(script.name)
        print(f"--- {script.name}: {time.perf_counter() - start:.1f} s", flush=True)
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        sys.exit(1)
