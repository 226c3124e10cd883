"""Write the baselines table of the documentation: ``gymrun baselines`` over every task with
a shipped agent, 100 episodes each, seed 0.

    .venv/bin/python scripts/baselines_table.py
    .venv/bin/python scripts/baselines_table.py --table-only

writes the figures to docs/baselines.json, the table between the
``<!-- baselines -->`` and ``<!-- /baselines -->`` markers of docs/guide/baselines.md
and the reference scores that normalize each task's scores (random 0, reference 1) to
src/gymrun/components/reference_scores.json (tests/test_baselines.py and
tests/components/test_reference.py check that the three agree). ``--table-only`` rewrites
the table and the reference scores from docs/baselines.json without running anything.
Any row can be repeated alone: ``gymrun baselines ENV_ID``.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from gymrun.baselines import markdown_table, run_baselines
from gymrun.components.reference import REFERENCE_FILE, reference_document

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "baselines.json"
PAGE = ROOT / "docs" / "guide" / "baselines.md"
REFERENCES = ROOT / "src" / "gymrun" / "components" / REFERENCE_FILE


def main() -> None:
    if "--table-only" in sys.argv:
        document = json.loads(FIGURES.read_text(encoding="utf-8"))
        write_table(document)
        write_references(document)
        return
    started = time.perf_counter()
    result = run_baselines(episodes=100, seed=0)
    document = result.to_json()
    FIGURES.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    write_table(document)
    write_references(document)
    print(
        f"{len(result.tasks)} tasks in {time.perf_counter() - started:.0f} s; skipped: "
        f"{[s['env_id'] for s in result.skipped]}"
    )


def write_table(document: dict[str, object]) -> None:
    page = PAGE.read_text(encoding="utf-8")
    # blank lines around the table: a Markdown table does not start on a comment's line
    block = f"<!-- baselines -->\n\n{markdown_table(document)}\n<!-- /baselines -->"
    page, count = re.subn(r"<!-- baselines -->\n.*?<!-- /baselines -->", block, page, flags=re.S)
    if count != 1:
        raise SystemExit(f"{PAGE} has no <!-- baselines --> ... <!-- /baselines --> block")
    PAGE.write_text(page, encoding="utf-8")


def write_references(document: dict[str, object]) -> None:
    text = json.dumps(reference_document(document), indent=2) + "\n"
    REFERENCES.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
