"""Exceptions raised by ganaug, and its warning classes.

Every exception subclasses :class:`GanaugError`, which is a ValueError: ``except GanaugError``
catches what ganaug raises on purpose, and code written against the ValueErrors of earlier
releases keeps working.
"""

from collections.abc import Sequence


class GanaugError(ValueError):
    """Base class of every exception ganaug raises on purpose (a ValueError too)."""


class ArtifactError(GanaugError):
    """A stored artifact is missing, corrupt, truncated or of an unknown format version."""


class SchemaMismatchError(GanaugError):
    """Data given to a pretrained generator does not match the schema it was trained on."""


class TableSchemaError(GanaugError):
    """A table's files disagree on their schema (a Parquet dataset), or a needed column is missing."""


class ShardError(GanaugError):
    """A table cannot be split across the processes of a distributed job (too few shards)."""


class DataError(GanaugError):
    """Training data that cannot be modelled or stored: a column's dtype or values, missing labels."""


class ScaleShiftWarning(UserWarning):
    """Data given to a pretrained generator is on a very different scale from its training data."""


class IdentifierColumnWarning(UserWarning):
    """A numeric column looks like a row identifier (integers, one per row, densely packed): its
    quantile knots, midpoints of consecutive ids, reveal which ids the training table holds."""


class ClusterError(GanaugError):
    """A compute cluster (a Dask scheduler) cannot be reached or cannot run the work."""


class LabelError(GanaugError):
    """The labels of ``y`` cannot be used: no labeled rows, a class with too few labeled rows, or
    an unlabeled marker that is also a real label."""


class ConditionError(GanaugError):
    """A sampling condition names an unknown column or level, or is too rare to meet in bounded
    time (the model generates rows that meet it too rarely)."""


class ConstraintError(GanaugError):
    """A constraint is malformed or names an unknown column, or the training rows break it."""


class ImageShapeError(GanaugError):
    """A table given to the convolutional preset is not an image of the expected shape.

    Attributes
    ----------
    field : str
        The setting or input at fault (``"GANConfig.image_shape"`` or ``"X"``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class DatasetFileNotFoundError(FileNotFoundError, GanaugError):
    """A data file named by a URI does not exist (both a FileNotFoundError and a ValueError)."""


class MissingTargetError(GanaugError):
    """A table was named without its target column.

    ``str(error)`` uses the Python spelling (``target=``); ``cli_message`` the command line's
    (``--target``), which the ``ganaug`` command prints instead.
    """

    def __init__(self, source: str, columns: Sequence[object] = ()) -> None:
        self.source = source
        self.columns = [str(c) for c in columns]
        listed = f"; its columns: {', '.join(self.columns)}" if self.columns else ""
        super().__init__(f"{source} needs a target column: pass target=COLUMN{listed}")
        self.cli_message = f"{source} needs a target column: pass --target COLUMN{listed}"


class SizeLimitError(GanaugError):
    """A request is larger than a limit: rows that would not fit in memory (or on disk), a
    row count past what can be planned, a file too large to read. The message names the limit.

    Attributes
    ----------
    requested : int
        What was asked for (rows or bytes).
    limit : int
        The largest that is accepted.
    """

    def __init__(self, message: str, requested: int, limit: int) -> None:
        super().__init__(message)
        self.requested, self.limit = requested, limit


class MethodSkipped(GanaugError):
    """An oversampling method cannot be applied to this data (the message says why)."""
