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
