"""Exceptions raised by ganaug (all subclass ValueError so callers can catch them broadly), and its
warning classes."""


class ArtifactError(ValueError):
    """A stored artifact is missing, corrupt, truncated or of an unknown format version."""


class SchemaMismatchError(ValueError):
    """Data given to a pretrained generator does not match the schema it was trained on."""


class TableSchemaError(ValueError):
    """A table's files disagree on their schema (a Parquet dataset), or a needed column is missing."""


class ShardError(ValueError):
    """A table cannot be split across the processes of a distributed job (too few shards)."""


class DataError(ValueError):
    """Training data that cannot be modelled or stored: a column's dtype or values, missing labels."""


class ScaleShiftWarning(UserWarning):
    """Data given to a pretrained generator is on a very different scale from its training data."""


class ClusterError(ValueError):
    """A compute cluster (a Dask scheduler) cannot be reached or cannot run the work."""


class LabelError(ValueError):
    """The labels of ``y`` cannot be used: no labeled rows, a class with too few labeled rows, or
    an unlabeled marker that is also a real label."""


class ImageShapeError(ValueError):
    """A table given to the convolutional preset is not an image of the expected shape.

    Attributes
    ----------
    field : str
        The setting or input at fault (``"GANConfig.image_shape"`` or ``"X"``).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
