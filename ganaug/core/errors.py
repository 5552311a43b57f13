"""Exceptions raised by ganaug (all subclass ValueError so callers can catch them broadly)."""


class ArtifactError(ValueError):
    """A stored artifact is missing, corrupt, truncated or of an unknown format version."""


class SchemaMismatchError(ValueError):
    """Data given to a pretrained generator does not match the schema it was trained on."""


class LabelError(ValueError):
    """The labels of ``y`` cannot be used: no labeled rows, a class with too few labeled rows, or
    an unlabeled marker that is also a real label."""
