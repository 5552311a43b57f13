"""Public import path of ganaug's exceptions; defined in :mod:`ganaug.core.errors`."""

from ganaug.core.errors import ArtifactError, ImageShapeError, SchemaMismatchError  # noqa: F401
