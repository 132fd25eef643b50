"""kundenwert helpers: the analysis and report package behind the course notebooks.

Notebooks stay thin and call into this package. Modules:

- ``config``: the typed :class:`~helpers.config.ReportConfig` (one place for all settings).
- ``data`` / ``validation``: loading client exports and the data-quality ledger.
- ``dataset``: the :class:`~helpers.dataset.Dataset` every chapter works on.
- ``analysis``: pure functions, DataFrame in, result out (no I/O, no plotting).
- ``plotting``: one chart style for all chapters.
- ``report``: notebook execution, assembly to Markdown and PDF rendering.
"""

__version__ = "0.1.0"

import sys as _sys

# jsonschema (imported by nbformat) loads the optional package rfc3987_syntax when it is installed
# (JupyterLab pulls it in), which builds a Lark grammar at import: 1,3 s of every report's start-up.
# Notebook validation uses no "iri" format, so this package's processes never load it.
_sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
del _sys
