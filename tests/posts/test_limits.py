"""The front matter's budgets: libyaml reads what cannot break one, the rest is weighed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.errors import PostError
from bot.posts.limits import MAX_YAML_DEPTH, BudgetedYAML, _surely_within_budget

CONTENT = Path(__file__).resolve().parents[2] / "content"


def test_real_front_matter_takes_the_fast_path_and_reads_the_same() -> None:
    files = [p for p in CONTENT.rglob("*.md") if "_drafts" not in p.parts]
    assert len(files) >= 15
    for path in files:
        front = path.read_text(encoding="utf-8").split("---\n")[1]
        assert _surely_within_budget(front), path
        assert BudgetedYAML().load(front) == yaml.load(front, Loader=yaml.SafeLoader), path


@pytest.mark.parametrize(
    "front",
    [
        "a: &x [1, 2]\nb: *x\n",  # an alias
        "a: " + "[" * (MAX_YAML_DEPTH // 2) + "]" * (MAX_YAML_DEPTH // 2) + "\n",
        "a:\n" + "".join(" " * n + f"k{n}:\n" for n in range(1, MAX_YAML_DEPTH)),
        "- " * MAX_YAML_DEPTH + "x\n",
    ],
)
def test_anything_that_may_nest_or_alias_is_weighed(front: str) -> None:
    assert not _surely_within_budget(front)


def test_too_deep_front_matter_is_still_refused() -> None:
    with pytest.raises(PostError, match="nested deeper"):
        BudgetedYAML().load("a: " + "[" * 40 + "]" * 40 + "\n")
    with pytest.raises(PostError, match="nested deeper"):
        BudgetedYAML().load("- " * 40 + "x\n")
