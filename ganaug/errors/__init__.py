"""Public import path of ganaug's exceptions; defined in :mod:`ganaug.core.errors`."""

from ganaug.core.errors import (  # noqa: F401
    ArtifactError,
    ClusterError,
    DataError,
    ImageShapeError,
    LabelError,
    ScaleShiftWarning,
    SchemaMismatchError,
)
