"""kwalitatief: a reproducible pipeline for qualitative research in Dutch."""

from __future__ import annotations

import os
import platform

__version__ = "0.1.0"

#: OpenBLAS's kernel family on every x86-64 processor that can run it (README, "Exact installs").
BLAS_CORETYPE = "Haswell"


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The instruction-set flags of the first processor in ``cpuinfo`` (Linux); empty where it cannot be read."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def pin_blas_kernels(environ: os._Environ[str] | dict[str, str] = os.environ, machine: str | None = None,
                     flags: frozenset[str] | None = None) -> str | None:
    """Have OpenBLAS (numpy's and scipy's) use the same kernels on every x86-64 processor with AVX2 and FMA.

    OpenBLAS picks its kernels by processor when it is loaded; with AVX-512 it takes others (SkylakeX)
    whose sums round differently in the last bits, so a model trained on such a machine is not the same
    file as one trained on another, and a fresh clone's ``dvc.lock`` differs from the committed one. The
    Haswell kernels run on every processor with AVX2 and FMA. Only takes effect for a library not yet
    loaded (set before numpy is imported) and in every process started from here; a value the user set
    is kept. Returns the core type set, or None."""
    if "OPENBLAS_CORETYPE" in environ:
        return None
    if (machine or platform.machine()).lower() not in ("x86_64", "amd64"):
        return None
    if not {"avx2", "fma"} <= (cpu_flags() if flags is None else flags):
        return None
    environ["OPENBLAS_CORETYPE"] = BLAS_CORETYPE
    return BLAS_CORETYPE


pin_blas_kernels()
