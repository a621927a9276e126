"""How well does the grounding check catch unsupported claims? (personapulse.narratives)

Builds the fact sheets of the real demo fixtures (tests/sample_data/narratives/), then
1. corrupts a faithful LLM-style answer programmatically (kinds in tests/narratives/answers.py,
   several seeds per persona) and reports the catch rate per kind and overall, and whether the
   expected reason was among the issues;
2. runs the same on kinds the checker is known to miss (swapped roles, claims without figures);
3. reports the share of grounded sentences in faithful cards: the template narrator's and a
   faithful answer sent through the real ``openai`` client from a local fake server (127.0.0.1).

Usage: .venv/bin/python bench/eval_grounding.py [--seeds 3]
Writes bench/results/grounding.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "narratives"))

import openai  # noqa: E402
from answers import BLIND_SPOTS, CORRUPTIONS, faithful_answer  # noqa: E402
from conftest import real_sheets  # noqa: E402
from llm_server import FakeLLMServer  # noqa: E402

from personapulse.narratives import (  # noqa: E402
    LLMNarrator,
    PersonaCard,
    TemplateNarrator,
    check_card,
    narrate_grounded,
)

EXPECTED_ISSUE = {
    "invented_number": "unsupported_number",
    "wrong_percentage": "unsupported_number",
    "invented_channel": "unsupported_channel",
    "invented_page": "unsupported_page",
    "invented_pain_point": "unsupported_label",
    "invented_quote": "unsupported_quote",
    "missing_citation": "no_citation",
    "unknown_fact_id": "unknown_fact",
    "wrong_citation": "unsupported_number",
    "borrowed_number": "unsupported_number",
    "spelled_out_number": "spelled_out_number",
    "unknown_persona": "unknown_persona",
}


def corruption_rows(sheets, kinds, seeds: int) -> list[dict]:
    rows = []
    for kind, corrupt in kinds.items():
        made = caught = right_reason = 0
        for sheet in sheets:
            answer = faithful_answer(sheet)
            for seed in range(seeds):
                try:
                    bad = corrupt(answer, sheet, random.Random(seed))
                except LookupError:
                    continue  # nothing of that kind to corrupt in this persona's card
                report = check_card(PersonaCard.from_dict(bad, persona_id=sheet.persona_id), sheet)
                made += 1
                caught += not report.passed
                right_reason += EXPECTED_ISSUE.get(kind) in {i.kind for i in report.issues}
        rows.append({"kind": kind, "cards": made, "caught": caught, "right_reason": right_reason})
    return rows


def faithful_rows(sheets) -> list[dict]:
    template = TemplateNarrator()
    rows = []
    total = {"template": [0, 0, 0], "llm": [0, 0, 0]}
    with FakeLLMServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="bench", timeout=10, max_retries=0)
        llm = LLMNarrator(client, "faithful-fake")
        for sheet in sheets:
            report = check_card(template.narrate(sheet), sheet)
            server.answer(faithful_answer(sheet))
            _, llm_report, backend = narrate_grounded(sheet, llm=llm, template=template)
            for name, rep, kept in (
                ("template", report, True),
                ("llm", llm_report, backend == "llm"),
            ):
                total[name][0] += rep.sentences
                total[name][1] += rep.grounded_sentences
                total[name][2] += kept
            rows.append(
                {
                    "persona": sheet.persona_id,
                    "template": f"{report.grounded_sentences}/{report.sentences}",
                    "llm": f"{llm_report.grounded_sentences}/{llm_report.sentences}",
                    "llm_kept": backend == "llm",
                }
            )
        requests = len(server.requests)
    return rows, total, requests


def table(headers: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(out)


def rate(a: int, b: int) -> str:
    return f"{a / b:.1%}" if b else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="corruptions per kind and persona")
    args = parser.parse_args()
    started = time.perf_counter()
    sheets = real_sheets()
    caught_rows = corruption_rows(sheets, CORRUPTIONS, args.seeds)
    blind_rows = corruption_rows(sheets, BLIND_SPOTS, args.seeds)
    faithful, total, requests = faithful_rows(sheets)
    elapsed = time.perf_counter() - started

    made = sum(r["cards"] for r in caught_rows)
    caught = sum(r["caught"] for r in caught_rows)
    right = sum(r["right_reason"] for r in caught_rows)
    corruption_table = table(
        ["corruption", "cards", "caught", "catch rate", "expected reason found"],
        [
            [
                r["kind"],
                r["cards"],
                r["caught"],
                rate(r["caught"], r["cards"]),
                rate(r["right_reason"], r["cards"]),
            ]
            for r in caught_rows
        ]
        + [["**all**", made, caught, rate(caught, made), rate(right, made)]],
    )
    blind_table = table(
        ["known blind spot", "cards", "caught", "catch rate"],
        [[r["kind"], r["cards"], r["caught"], rate(r["caught"], r["cards"])] for r in blind_rows],
    )
    faithful_table = table(
        [
            "persona",
            "template grounded sentences",
            "faithful LLM answer grounded sentences",
            "LLM card kept",
        ],
        [[r["persona"], r["template"], r["llm"], r["llm_kept"]] for r in faithful]
        + [
            [
                "**all**",
                f"{total['template'][1]}/{total['template'][0]} ({rate(total['template'][1], total['template'][0])})",
                f"{total['llm'][1]}/{total['llm'][0]} ({rate(total['llm'][1], total['llm'][0])})",
                f"{total['llm'][2]}/{len(faithful)}",
            ]
        ],
    )
    report = f"""# Grounding check: catch rate on corrupted cards

`{" ".join(["python", "bench/eval_grounding.py", "--seeds", str(args.seeds)])}` on the real demo fixtures
(`tests/sample_data/narratives/`, Brightcart demo, 600 users, seed 5, {len(sheets)} personas).
Each corrupted card is a faithful LLM-style answer (`tests/narratives/answers.py::faithful_answer`)
with one programmatic corruption; {args.seeds} seeds per kind and persona (a kind is skipped for a
persona that has nothing to corrupt, e.g. no pain-point sentence). Ran in {elapsed:.1f} s.

{corruption_table}

The corruption kinds were written by the same engineer as the checker, knowing its rules, so
this measures that the rules work as specified on real data, not how often a real model's
mistakes are caught. Kinds the rules do not cover, measured the same way:

{blind_table}

## Faithful cards

Share of sentences that pass the check (a card is kept only if all do). The LLM column went
through the real `openai` client against the local fake server ({requests} requests).

{faithful_table}
"""
    out = ROOT / "bench" / "results" / "grounding.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(corruption_table)
    print()
    print(blind_table)
    print()
    print(faithful_table)
    print(f"\nwrote {out.relative_to(ROOT)} ({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
