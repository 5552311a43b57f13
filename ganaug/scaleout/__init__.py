"""Pretraining beyond one in-memory table: streamed from Parquet / CSV sources, or on several
processes with torchrun (torch.distributed). The Python API the CLI's ``pretrain`` calls."""

from ganaug.scaleout.ranks import LAUNCHED_ENV, launch, pretrain
from ganaug.scaleout.sources import open_source, wants_source

__all__ = ["LAUNCHED_ENV", "launch", "open_source", "pretrain", "wants_source"]
