"""Exceptions raised by ganaug (all subclass ValueError so callers can catch them broadly)."""


class ArtifactError(ValueError):
    """A stored artifact is missing, corrupt, truncated or of an unknown format version."""


class SchemaMismatchError(ValueError):
    """Data given to a pretrained generator does not match the schema it was trained on."""


class ClusterError(ValueError):
    """A compute cluster (a Dask scheduler) cannot be reached or cannot run the work."""
