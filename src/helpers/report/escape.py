"""Escaping of untrusted text (client name, consultant, data values) for the report.

Markdown escaping lives in :func:`helpers.report.display.md_escape` (every ASCII
punctuation character is backslash-escaped); pandoc then escapes the text again for
Typst, so ``#set page(...)`` or ``$x$`` is printed literally. Here: YAML front matter.
"""

from __future__ import annotations

import json

from .display import md_escape


def yaml_md_string(text: object) -> str:
    """A YAML double-quoted scalar whose value is ``text`` escaped as Markdown.

    Pandoc parses metadata strings as Markdown, hence the Markdown escaping first;
    JSON string syntax is valid YAML and escapes quotes, backslashes and control characters.
    """
    return json.dumps(md_escape(text), ensure_ascii=False)


__all__ = ["md_escape", "yaml_md_string"]
