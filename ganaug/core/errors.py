"""Exceptions raised by ganaug (all subclass ValueError so callers can catch them broadly)."""


class ArtifactError(ValueError):
    """A stored artifact is missing, corrupt, truncated or of an unknown format version."""


class SchemaMismatchError(ValueError):
    """Data given to a pretrained generator does not match the schema it was trained on."""


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
