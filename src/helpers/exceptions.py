"""Exception hierarchy. Messages are German and name file, column and rows."""


class KundenwertError(Exception):
    """Base class: the CLI prints the message and exits with :attr:`exit_code`."""

    exit_code = 1


class ConfigError(KundenwertError):
    """Invalid settings or parameters."""

    exit_code = 2


class DataValidationError(KundenwertError):
    """The client file cannot be used (empty, unreadable, required column missing, ...)."""

    exit_code = 2


class AnalysisError(KundenwertError):
    """An analysis cannot produce a trustworthy result for this data."""


class RenderError(KundenwertError):
    """Executing a notebook or rendering the PDF failed."""
