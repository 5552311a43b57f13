"""Connect to a Dask scheduler, or start a local cluster, with clear errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any

from distributed import Client, LocalCluster
from distributed.comm import connect as comm_connect
from distributed.comm.addressing import parse_address, parse_host_port

from ganaug.core.errors import ClusterError

DEFAULT_TIMEOUT = 10.0
"""Seconds to wait for a scheduler before giving up (Dask's own default is 30)."""


def _probe(address: str, timeout: float) -> None:
    """Open and close a TCP connection to a ``tcp://`` or ``tls://`` scheduler address.

    A refused or silent address then fails in ``timeout`` seconds with a message naming it,
    instead of Dask's retry loop and the traceback its half-built Client prints when collected.
    """
    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):
            return  # other transports (inproc, ucx) are left to Dask
        host, port = parse_host_port(location)
    except ValueError as exc:
        raise ClusterError(f"invalid Dask scheduler address {address!r}: {exc}") from None
    if port is None:
        raise ClusterError(f"Dask scheduler address {address!r} has no port (e.g. tcp://host:8786)")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or exc
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} within {timeout:g} s: {reason}"
        ) from None


def connect(address: str, timeout: float = DEFAULT_TIMEOUT) -> Client:
    """A :class:`distributed.Client` of the scheduler at ``address``.

    Parameters
    ----------
    address : str
        Scheduler address, ``tcp://host:port`` (or ``host:port``).
    timeout : float, default=10
        Seconds to wait for the scheduler.

    Raises
    ------
    ClusterError
        The address is invalid, nothing listens there, or what answers is not a Dask scheduler
        (within ``timeout`` seconds).
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be positive; got {timeout!r}")
    _probe(address, timeout)
    try:
        # Dask's handshake, bounded: a server that is not a Dask scheduler can make
        # Client() wait forever for bytes that never come
        with ThreadPoolExecutor(1) as pool:  # its own event loop, even inside a running one
            pool.submit(asyncio.run, _handshake(address, timeout)).result()
        return Client(address, timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - a non-Dask server answers with anything (MemoryError)
        detail = " ".join(str(exc).split())[:200]
        raise ClusterError(
            f"no Dask scheduler answered at {address} within {timeout:g} s "
            f"({type(exc).__name__}{': ' + detail if detail else ''})"
        ) from None


async def _handshake(address: str, timeout: float) -> None:
    comm = await asyncio.wait_for(comm_connect(address, timeout=timeout), timeout)
    await comm.close()


@contextmanager
def dask_client(
    scheduler: str | None = None,
    *,
    n_workers: int | None = None,
    memory_limit: str | float | None = "auto",
    timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[Client]:
    """A Client of ``scheduler``, or of a new local cluster of worker processes; closed on exit.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler. None starts a :class:`distributed.LocalCluster` of
        ``n_workers`` single-threaded worker processes on loopback (default: one per core).
    n_workers : int, optional
        Workers of the local cluster (ignored with ``scheduler``).
    memory_limit : str or float, default="auto"
        Memory limit of each local worker, in Dask's notation ("2GiB").
    timeout : float, default=10
        Seconds to wait for ``scheduler``.
    """
    if scheduler is not None:
        client = connect(scheduler, timeout)
        try:
            yield client
        finally:
            with suppress(OSError, TimeoutError):
                client.close()
        return
    cluster = LocalCluster(**local_cluster_options(n_workers, memory_limit))
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def local_cluster_options(n_workers: int | None, memory_limit: Any) -> dict[str, Any]:
    """Options of the local cluster ganaug starts: processes, one thread each, loopback only."""
    return {
        "n_workers": n_workers,
        "threads_per_worker": 1,  # one partition per process: sampling is single-threaded there
        "processes": True,
        "memory_limit": memory_limit,
        "host": "127.0.0.1",
        "dashboard_address": ":0",  # any free port: several clusters may run on one machine
    }


def peak_memory_mib() -> float | None:
    """Peak resident memory of this process in MiB (``VmHWM``, Linux; None elsewhere).

    Unlike ``getrusage``'s ``ru_maxrss``, which a spawned process inherits from its parent
    across ``exec``, it counts this process's own memory only. Run it on every worker with
    ``client.run(peak_memory_mib)``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
