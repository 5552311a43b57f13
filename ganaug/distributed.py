"""``torchrun --nproc-per-node N -m ganaug.distributed DATA --target COL -o DIR``.

Pretraining on several processes with torch.distributed; the implementation and its
documentation are in :mod:`ganaug.cli.torchrun` (this module is the ``-m`` entry point and
the Python API: :func:`pretrain`, :func:`launch`).
"""

from ganaug.cli.torchrun import launch, main, pretrain

__all__ = ["launch", "main", "pretrain"]

if __name__ == "__main__":
    main()
