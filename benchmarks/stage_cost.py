"""The default preset's seconds against its copula stage alone, per table, from a quality run.

Reads a ``quality.py`` JSON that has both ``ganaug-default`` and ``ganaug-copula`` records (the
default preset with ``lr_g=0`` and one step: the copula stage alone) and prints, per table,
regime and seed, both methods' seconds (fit and sampling, as ``quality.py`` times them), their
ratio and the stage the default's rows came from (``history_["stage"]``), with its reason.

    python benchmarks/stage_cost.py benchmarks/results/stage_cost.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

#: the default with the gate off (the stage runs in full), when the run has it
UNGATED = "ganaug-default+adversarial_gate=False"


def rows(records: list[dict[str, Any]]) -> list[list[str]]:
    seconds: dict[tuple[Any, ...], dict[str, float]] = {}
    stage: dict[tuple[Any, ...], tuple[str, str]] = {}
    same: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in records:
        if r["method"] not in ("ganaug-default", "ganaug-copula", UNGATED) or r.get("note"):
            continue
        key = (r["dataset"], r["regime"], r["seed"])
        seconds.setdefault(key, {})[r["method"]] = r["method_seconds"]
        # the score of every model: equal scores and detection AUC = the same rows
        metric = r.get("balanced_accuracy", r.get("r2"))
        same.setdefault(key, {}).setdefault(r["method"], []).append((metric, r.get("detection_auc")))
        if r["method"] == "ganaug-default":
            reason = r.get("stage_reason") or ""
            # the reason without its numbers: what happened, in a few words
            short = re.split(r"[:(]", reason.removeprefix("adversarial stage "), maxsplit=1)[0].strip()
            stage[key] = (r.get("stage") or "?", short)
    out = []
    for key in sorted(seconds):
        s = seconds[key]
        if len(s) < 2:
            continue
        d, c = s["ganaug-default"], s["ganaug-copula"]
        ungated = f"{s[UNGATED]:.2f} ({s[UNGATED] / c:.0f}x)" if UNGATED in s else "-"
        identical = "yes" if same[key]["ganaug-default"] == same[key]["ganaug-copula"] else "no"
        out.append([*map(str, key), f"{d:.2f}", f"{c:.2f}", f"{d / c:.1f}", ungated, identical, *stage[key]])
    return out


def main(argv: list[str] | None = None) -> int:
    path = (argv or sys.argv[1:])[0]
    table = rows(json.loads(Path(path).read_text())["records"])
    print("| table | regime | seed | default s | copula stage s | ratio | gate off s | same scores as copula | stage | why |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(row) + " |")
    ratios = sorted(float(r[5]) for r in table if r[8] == "copula")
    if ratios:
        print(f"\ncopula kept in {len(ratios)} of {len(table)}: ratio median {ratios[len(ratios) // 2]:.1f}, "
              f"max {ratios[-1]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
