"""Raw PDFium functions for the per-line and per-object loops of :mod:`.pdf` and :mod:`.pdf_tables`.

pypdfium2's raw bindings declare every argument's type, and ctypes checks and converts each argument on
every call: about half the cost of a cheap call like a character's box. The loops here make thousands of
such calls per document, so they call the same C functions through prototypes without declared
arguments. Callers pass what C expects: handles as :func:`handle` (a ``void*``), indexes as ``int``,
out-parameters with ``ctypes.byref``; no float arguments (ctypes would pass them as ``double``).
"""

from __future__ import annotations

import ctypes
from functools import cache
from typing import Any


class Handle(ctypes.c_void_p):
    """An opaque PDFium handle; a subclass, so that ctypes returns it as is rather than as an ``int``."""


def handle(pointer: Any) -> Handle:
    """A pypdfium2 raw handle (``page.raw``, ``textpage.raw``, a page object) as a bare ``void*``."""
    return ctypes.cast(pointer, Handle)


@cache
def function(name: str, restype: Any = ctypes.c_int) -> Any:
    """PDFium's C function ``name`` (as bound by pypdfium2) without argument conversion, returning ``restype``."""
    import pypdfium2.raw as pdfium_c

    address = ctypes.cast(getattr(pdfium_c, name), ctypes.c_void_p).value
    return ctypes.CFUNCTYPE(restype)(address)
