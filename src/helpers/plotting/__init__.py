"""Charts. One module per chapter; all use :mod:`helpers.plotting.style`.

Plot functions take result DataFrames (and an optional ``ax``) and return the
matplotlib ``Figure``. They never compute analysis results themselves.
"""

from .style import BRAND, axis_format, new_figure, use_style

__all__ = ["BRAND", "axis_format", "new_figure", "use_style"]
