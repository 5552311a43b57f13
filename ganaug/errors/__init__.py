"""Public import path of ganaug's exceptions and warnings; defined in :mod:`ganaug.core.errors`.

Every exception subclasses :class:`GanaugError` (itself a ValueError).
"""

from ganaug.core.errors import (
    ArtifactError,
    ClusterError,
    ConditionError,
    ConstraintError,
    DataError,
    DatasetFileNotFoundError,
    GanaugError,
    IdentifierColumnWarning,
    ImageShapeError,
    LabelError,
    MethodSkipped,
    MissingTargetError,
    ScaleShiftWarning,
    SchemaMismatchError,
    ShardError,
    SizeLimitError,
    TableSchemaError,
)

__all__ = [
    "ArtifactError",
    "ClusterError",
    "ConditionError",
    "ConstraintError",
    "DataError",
    "DatasetFileNotFoundError",
    "GanaugError",
    "IdentifierColumnWarning",
    "ImageShapeError",
    "LabelError",
    "MethodSkipped",
    "MissingTargetError",
    "ScaleShiftWarning",
    "SchemaMismatchError",
    "ShardError",
    "SizeLimitError",
    "TableSchemaError",
]
