"""Progress bars for the long per-document loops (tqdm, on stderr), only where someone watches.

On when stderr is a terminal and not in CI (``CI`` set); ``KWAL_PROGRESS=1`` / ``0`` forces it on / off
(``kwal run`` sets it from its own terminal, since the stages' output reaches it through a pipe). A bar
appears after two seconds, so quick stages and the demo stay as quiet as before.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def enabled() -> bool:
    forced = os.environ.get("KWAL_PROGRESS")
    if forced in ("0", "1"):
        return forced == "1"
    return sys.stderr.isatty() and not os.environ.get("CI")


def progress(items: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
    """``items`` with a progress bar on stderr when :func:`enabled`; the bar is removed when done."""
    if not enabled():
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False, delay=2.0, mininterval=0.5,
                    unit="doc", dynamic_ncols=True)
