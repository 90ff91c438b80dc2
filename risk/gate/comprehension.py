"""The comprehension check before a card is acknowledged (issue 24): two or three yes/no questions drawn from the
card's out-of-scope uses and operating boundaries, mixed with something it is for, so that a trader who signs has
read what the model must not be used for. Generated deterministically from the card (the same card asks the same
questions, in the same order), so the answers recorded on the acknowledgement can be read back against it."""

import random
import re

YES, NO = "yes", "no"
_SPLIT = re.compile(r"[;\n]+|\.\s+")


def _items(text: str) -> list[str]:
    """The separate uses a free text names ("Sizing positions; small caps." -> two)."""
    return [item.strip(" .,-*") for item in _SPLIT.split(text or "") if len(item.strip(" .,-*")) >= 3]


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def _boundary_question(boundary: dict) -> dict | None:
    name, unit = boundary.get("name") or "", boundary.get("unit") or ""
    suffix = f" {unit}" if unit else ""
    if boundary.get("max") is not None:
        return {"text": f"May it be used while {name} is above {_number(boundary['max'])}{suffix}?", "answer": NO}
    if boundary.get("min") is not None:
        return {"text": f"May it be used while {name} is below {_number(boundary['min'])}{suffix}?", "answer": NO}
    return None


def questions_for(limitations: dict, intended_use: str, card_hash: str) -> list[dict]:
    """[{"id", "text", "answer"}], two or three of them: one use the card rules out, one boundary it sets, and one
    use it is for (or, where the card says too little, what every card binds: the gate and its limits)."""
    rng = random.Random(int(card_hash[:16], 16))
    out_of_scope = _items(limitations.get("out_of_scope_uses", "")) + _items(limitations.get("use_restrictions", ""))
    boundaries = [q for q in map(_boundary_question, limitations.get("operating_boundaries") or []) if q]
    in_scope = _items(intended_use)
    chosen = []
    if out_of_scope:
        chosen.append({"text": f"May this model be used for: {rng.choice(out_of_scope)}?", "answer": NO})
    if boundaries:
        chosen.append(rng.choice(boundaries))
    if in_scope:
        chosen.append({"text": f"May this model be used for: {rng.choice(in_scope)}?", "answer": YES})
    fallbacks = [
        {"text": "May you trade with this model while the model gate answers blocked?", "answer": NO},
        {"text": "Must you acknowledge the card again when it changes?", "answer": YES},
    ]
    for fallback in fallbacks:
        if len(chosen) >= 2:
            break
        chosen.append(fallback)
    rng.shuffle(chosen)
    return [{"id": f"q{i}", **q} for i, q in enumerate(chosen[:3], start=1)]


def marked(questions: list[dict], answers: dict) -> tuple[list[dict], list[str]]:
    """Each question with the answer given and the card's; the ids answered wrongly or not at all."""
    rows, wrong = [], []
    for q in questions:
        given = str((answers or {}).get(q["id"], "")).strip().lower()
        rows.append({"question": q["text"], "answer": given, "expected": q["answer"]})
        if given != q["answer"]:
            wrong.append(q["id"])
    return rows, wrong
