"""Splice the latest benchmark markdown (benchmarks/results/*.md) into README.md.

The README holds ``<!-- BEGIN GENERATED: NAME -->`` / ``<!-- END GENERATED: NAME -->`` markers;
the text between them is replaced by ``benchmarks/results/NAME.md`` when that file exists, so the
tables in the README are always the scripts' own output, never typed by hand.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def splice(readme: str, name: str, body: str) -> str:
    """Replace the generated block ``name`` in ``readme`` with ``body``."""
    pattern = re.compile(
        rf"(<!-- BEGIN GENERATED: {re.escape(name)} -->\n).*?(<!-- END GENERATED: {re.escape(name)} -->)",
        re.DOTALL,
    )
    if not pattern.search(readme):
        raise ValueError(f"README has no generated block named {name!r}")
    return pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), readme)


def main(argv: list[str] | None = None) -> int:
    results = Path(argv[0]) if argv else ROOT / "benchmarks" / "results"
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text()
    for md in sorted(results.glob("*.md")):
        if f"BEGIN GENERATED: {md.stem} -->" in readme:
            readme = splice(readme, md.stem, md.read_text())
            print(f"spliced {md.name}")
    readme_path.write_text(readme)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
