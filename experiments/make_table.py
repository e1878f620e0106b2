"""Print the markdown table of docs/results.md from experiments/results.jsonl."""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAPER_500 = {1: "-125.53", 3: "-105.50", 25: "-86.34"}  # S&M 2008, 500 hidden, CD1/CD3/CD25


def f(x, d=2):
    return "—" if x is None else (x if isinstance(x, str) else f"{x:.{d}f}")


print("| model | training | epochs | exact log Z | AIS log Z ± se (ESS) | reverse AIS log Z ± se (ESS)"
      " | test log p: exact | test log p: [reverse, forward] | train time | AIS + rev. time | paper |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for line in open(HERE / "results.jsonl"):
    r = json.loads(line)
    a, e = r["arguments"], r["estimates"]
    ex = e.get("exact")
    fw, rv, br = e["ais"], e["reverse_ais"], e["bracket"]
    paper = PAPER_500.get(a["k"], "") if a["hidden"] == 500 and a["method"] == "cd" else ""
    print(f"| {a['hidden']} hidden | {a['method'].upper()}{a['k']} | {a['epochs']} | "
          f"{f(ex['log_z']) if ex else '—'} | "
          f"{fw['log_z']:.2f} ± {fw['stderr']:.2f} ({fw['ess']:.0f}) | "
          f"{rv['log_z']:.2f} ± {rv['stderr']:.2f} ({rv['ess']:.0f}) | "
          f"{f(ex['test_ll']) if ex else '—'} | "
          f"[{br['conservative_test_ll']:.2f}, {br['optimistic_test_ll']:.2f}] | "
          f"{r['train_seconds_history']:.0f} s | {fw['seconds']:.0f} + {rv['seconds']:.0f} s | "
          f"{paper or '—'} |")
