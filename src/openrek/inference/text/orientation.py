"""PaddleOCR text-line orientation classifier: is a line crop upright or upside down?

Text rotated past 90 degrees is detected with its quad read backwards; this model
tells which of the two readings is right, so such lines are read the right way up.
"""

from __future__ import annotations

import numpy as np

from openrek.inference.session import Session
from openrek.inference.text.recognizer import to_network_strip

HEIGHT, WIDTH = 48, 192
BATCH = 8
# Turn a crop only when the model is sure: a wrong turn destroys a correct line.
UPSIDE_DOWN_THRESHOLD = 0.9


class OrientationClassifier:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._input = session.input_names[0]

    def upside_down(self, crops: list[np.ndarray]) -> list[bool]:
        """For each BGR line crop, whether it is upside down."""
        verdicts: list[bool] = []
        for start in range(0, len(crops), BATCH):
            batch = np.stack([to_network_strip(crop, HEIGHT, WIDTH) for crop in crops[start : start + BATCH]])
            (scores,) = self._session.run({self._input: batch})
            verdicts.extend(bool(s[1] > UPSIDE_DOWN_THRESHOLD) for s in scores)
        return verdicts
