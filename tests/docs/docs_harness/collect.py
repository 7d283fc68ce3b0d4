"""Find the runnable snippets of the docs: fenced blocks in Markdown, and the examples.

What runs (docs conventions of issue 13):

- A fenced ```python block (also ``py``, ``python3``; attributes after the language, as in
  ```python title="x.py", are fine) of README.md, packages/*/README.md and docs/**/*.md: a
  complete program.
- A fenced ```console block: each ``$ reqivo ...`` and ``$ python ...`` command, in order,
  in one working directory (a trailing backslash continues a command on the next line);
  other lines are output and are not checked.
- Every ``examples/*.py``.

A block whose nearest non-blank line above is ``<!-- not-run: <reason> -->`` is not run;
:func:`not_run_blocks` lists those. ``--8<-- "path"`` lines (pymdownx.snippets) are
replaced by the file they include.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "RUN_LANGUAGES",
    "Block",
    "Snippet",
    "collect",
    "fenced_blocks",
    "markdown_files",
    "not_run_blocks",
    "stray_markers",
]

PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
CONSOLE_LANGUAGES = frozenset({"console"})
RUN_LANGUAGES = PYTHON_LANGUAGES | CONSOLE_LANGUAGES
#: The commands of a console block that run (``$ reqivo ...``, ``$ python ...``).
RUN_COMMANDS = ("reqivo", "python")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:(?P<reason>.*?)-->\s*$")
_INCLUDE = re.compile(r"""^\s*--8<--\s+["']?(?P<path>[^"'\s]+)["']?\s*$""")


@dataclass(frozen=True, slots=True)
class Block:
    """A fenced block: where it starts (1-based line of the opening fence) and what it holds."""

    path: str  # relative to the repository root, with "/"
    line: int
    language: str
    code: str
    not_run: str | None  # the reason of a preceding not-run comment ("" when empty)

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class Snippet:
    """Something to run: a Python program, console commands, or an example file."""

    id: str
    kind: Literal["python", "console", "file"]
    #: the program (python), the commands (console), the file's path (file)
    code: str
    commands: tuple[str, ...] = ()
    #: the line of the opening fence (0 for a file): the program is padded to keep line numbers
    line: int = 0


def markdown_files(root: Path) -> list[Path]:
    """README.md, packages/*/README.md and docs/**/*.md, sorted."""
    found = [root / "README.md", *sorted(root.glob("packages/*/README.md"))]
    found += sorted((root / "docs").rglob("*.md"))
    return [path for path in found if path.is_file()]


def _language(info: str) -> str:
    """```python title="x"`` -> ``python``; ```{.python .annotate}`` -> ``python``."""
    words = info.strip().lstrip("{").replace(".", " ").split()
    return words[0].lower().rstrip("}") if words else ""


def fenced_blocks(path: Path, root: Path) -> list[Block]:
    """Every fenced block of the Markdown file ``path``, with its not-run reason if any."""
    lines = path.read_text(encoding="utf-8").splitlines()
    relative = path.relative_to(root).as_posix()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = _FENCE.match(lines[j])
            if closing and closing["fence"].startswith(fence) and not closing["info"].strip():
                break
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        above = i - 1
        while above >= 0 and not lines[above].strip():
            above -= 1
        marker = _NOT_RUN.match(lines[above]) if above >= 0 else None
        blocks.append(
            Block(
                path=relative,
                line=i + 1,
                language=_language(opening["info"]),
                code="\n".join(body) + "\n",
                not_run=marker["reason"].strip() if marker else None,
            )
        )
        i = j + 1
    return blocks


def _expand_includes(code: str, root: Path) -> str:
    out: list[str] = []
    for line in code.splitlines():
        include = _INCLUDE.match(line)
        out.append((root / include["path"]).read_text(encoding="utf-8") if include else line)
    return "\n".join(out) + "\n"


def _commands(code: str) -> tuple[str, ...]:
    """The ``$ reqivo``/``$ python`` commands of a console block (continuations joined)."""
    commands: list[str] = []
    pending: str | None = None
    for line in code.splitlines():
        if pending is not None:
            pending += "\n" + line
        elif line.startswith("$ "):
            pending = line[2:]
        else:
            continue
        if pending.endswith("\\"):
            continue
        if pending.split(maxsplit=1)[0] in RUN_COMMANDS:
            commands.append(pending)
        pending = None
    return tuple(commands)


def collect(root: Path) -> list[Snippet]:
    """Every snippet to run, in file order, then the examples."""
    snippets: list[Snippet] = []
    for path in markdown_files(root):
        for block in fenced_blocks(path, root):
            if block.not_run is not None:
                continue
            if block.language in PYTHON_LANGUAGES:
                code = _expand_includes(block.code, root)
                snippets.append(Snippet(block.id, "python", code, line=block.line))
            elif block.language in CONSOLE_LANGUAGES and (commands := _commands(block.code)):
                snippets.append(Snippet(block.id, "console", block.code, commands, block.line))
    for example in sorted((root / "examples").glob("*.py")):
        relative = example.relative_to(root).as_posix()
        snippets.append(Snippet(relative, "file", str(example)))
    return snippets


def not_run_blocks(root: Path) -> list[Block]:
    """Every block marked ``<!-- not-run: reason -->``."""
    return [
        b for p in markdown_files(root) for b in fenced_blocks(p, root) if b.not_run is not None
    ]


def stray_markers(root: Path) -> list[str]:
    """``path:line`` of every not-run comment that no fenced block follows."""
    stray: list[str] = []
    for path in markdown_files(root):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if _NOT_RUN.match(line):
                after = next((text for text in lines[number:] if text.strip()), "")
                if not _FENCE.match(after):
                    stray.append(f"{path.relative_to(root).as_posix()}:{number}")
    return stray
