"""The project's own documentation: every relative link in the README and docs/ leads to a
file inside the repository, and every #fragment to a heading there (GitHub's anchors)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"```.*?```", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")


def _prose(path: Path) -> str:
    return _INLINE_CODE.sub("", _FENCE.sub("", path.read_text(encoding="utf-8")))


def _anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in _FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading is None:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower().replace("`", ""))
        slug = slug.replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def _broken(page: Path) -> list[str]:
    bad = []
    for target in _LINK.findall(_prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL
        path, _, fragment = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if ROOT not in dest.parents or not dest.is_file():
            bad.append(f"{target}: not a file inside the repository")
        elif fragment and fragment not in _anchors(dest):
            bad.append(f"{target}: no heading #{fragment}")
    return bad


def test_the_project_carries_its_docs() -> None:
    names = {p.name for p in PAGES}
    assert {"README.md", "manifest.md", "generation.md", "api.md", "architecture.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    assert _broken(page) == []


def test_the_readme_names_no_file_outside_the_repository() -> None:
    assert "../shared" not in (ROOT / "README.md").read_text(encoding="utf-8")
