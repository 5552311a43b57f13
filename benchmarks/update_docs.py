"""Splice the latest benchmark markdown (benchmarks/results/*.md) into the documentation pages.

A page under ``docs/`` holds ``<!-- BEGIN GENERATED: NAME -->`` / ``<!-- END GENERATED: NAME -->``
markers; the text between them is replaced by ``benchmarks/results/NAME.md`` when that file
exists, so the tables in the documentation are always the scripts' own output, never typed by
hand. Headings of a result file are moved two levels down (``#`` -> ``###``) so they nest under
the page's sections. README.md is never touched: it links to these pages instead.

Usage: ``python benchmarks/update_docs.py [RESULTS_DIR]``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def nest_headings(body: str, levels: int = 2) -> str:
    """Move every markdown heading of ``body`` (outside code fences) ``levels`` levels down."""
    out, in_code = [], False
    for line in body.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#{1,6} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def splice(page: str, name: str, body: str) -> str:
    """Replace the generated block ``name`` in ``page`` with ``body`` (headings nested)."""
    pattern = re.compile(
        rf"(<!-- BEGIN GENERATED: {re.escape(name)} -->\n).*?(<!-- END GENERATED: {re.escape(name)} -->)",
        re.DOTALL,
    )
    if not pattern.search(page):
        raise ValueError(f"no generated block named {name!r}")
    return pattern.sub(lambda m: m.group(1) + nest_headings(body.rstrip()) + "\n" + m.group(2), page)


def main(argv: list[str] | None = None) -> int:
    results = Path(argv[0]) if argv else ROOT / "benchmarks" / "results"
    for page_path in sorted(DOCS.glob("*.md")):
        page = original = page_path.read_text(encoding="utf-8")
        for md in sorted(results.glob("*.md")):
            if f"BEGIN GENERATED: {md.stem} -->" in page:
                page = splice(page, md.stem, md.read_text(encoding="utf-8"))
                print(f"spliced {md.name} into docs/{page_path.name}")
        if page != original:
            page_path.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
