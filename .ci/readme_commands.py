"""Print one of the README's two set-up commands, so CI runs exactly what the README says.

Usage: ``python .ci/readme_commands.py main|test``. The commands are the two lines of the first
```bash block under the README's "## Set up" heading, without their trailing comments.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def setup_commands(text: str) -> dict[str, str]:
    """The ``main`` and ``test`` commands of the README's set-up section."""
    section = text.split("## Set up", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    if block is None:
        raise SystemExit("README.md: no ```bash block under '## Set up'")
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.group(1).splitlines()]
    lines = [line for line in lines if line]
    if len(lines) != 2:
        raise SystemExit(f"README.md: the set-up block has {len(lines)} commands, expected 2")
    return {"main": lines[0], "test": lines[1]}


if __name__ == "__main__":
    print(setup_commands(README.read_text(encoding="utf-8"))[sys.argv[1]])
