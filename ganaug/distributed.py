"""``torchrun --nproc-per-node N -m ganaug.distributed DATA --target COL -o DIR``.

Pretraining on several processes with torch.distributed: this module is the ``-m`` entry point
(the command line of one rank, :mod:`ganaug.cli.torchrun`) and re-exports the Python API of
:mod:`ganaug.scaleout` (:func:`pretrain`, :func:`launch`).
"""

from ganaug.cli.torchrun import main
from ganaug.scaleout import launch, pretrain

__all__ = ["launch", "main", "pretrain"]

if __name__ == "__main__":
    main()
