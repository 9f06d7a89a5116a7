"""Photos taken sideways: most of their text runs up or down the picture.

The detector finds such lines as tall boxes and the recogniser can read them along
their length, but small text turned 90 degrees is often missed or garbled (on a
cookie box photographed sideways, 8 of 22 words read; the same photo turned upright,
21). When most of what was found is such columns, the photo is turned upright and
read again, and the quads are mapped back onto the photo as given.

Both quarter turns are read and the reading with the most confident text is kept:
the orientation classifier's verdicts on small turned text are no guide to which
way it runs (on that box, 4 of 9 columns called one way, 5 the other).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

QUARTER_TURNS = (1, -1)  # np.rot90's k: counter-clockwise, clockwise

# Turn only when at least this share of the lines found are columns (and at least
# MIN_COLUMNS of them): an upright photo's few tall boxes (a lone "1", a vertical
# label on a shelf) never turn it.
COLUMN_SHARE = 0.5
MIN_COLUMNS = 2


def looks_sideways(columns: Sequence[bool]) -> bool:
    """Whether the lines found (each: taller than wide or not) say the photo is sideways."""
    count = sum(columns)
    return count >= MIN_COLUMNS and count >= COLUMN_SHARE * len(columns)


def turned(image: np.ndarray, quarter_turns: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(image, quarter_turns))


def quad_back(quad: np.ndarray, quarter_turns: int, height: int, width: int) -> np.ndarray:
    """A quad found on the turned photo, in the pixels of the photo as given
    (`height` x `width`). Corner order (the text's own reading order) is kept."""
    x, y = quad[:, 0], quad[:, 1]
    if quarter_turns == 1:  # counter-clockwise: (x, y) went to (y, width - x)
        back = np.stack([width - y, x], axis=1)
    elif quarter_turns == -1:  # clockwise: (x, y) went to (height - y, x)
        back = np.stack([y, height - x], axis=1)
    else:
        raise ValueError(f"a quarter turn is 1 or -1, not {quarter_turns}")
    return back.astype(np.float32)
