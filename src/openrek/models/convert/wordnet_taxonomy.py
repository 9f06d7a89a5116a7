"""Pull-time step "imagenet-wordnet-taxonomy": WordNet's hypernym chains for the ImageNet classes.

WordNet 3.0's `data.noun` (15 MB, Debian `wordnet-base`) holds every noun synset; the
classifier needs only the synsets on the hypernym chains of its 1000 classes (wnid
n02123045 is offset 02123045 in `data.noun`). This step keeps those, with their lemmas
and hypernyms, in the classifier's output order (timm's `imagenet_synsets.txt`), as a
compact JSON file that `openrek.inference.labels.taxonomy` reads at run time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping


def _parse_data_noun(text: str) -> dict[str, tuple[list[str], list[str]]]:
    """wnid -> (lemmas, hypernym wnids) for every noun synset in WordNet's data.noun."""
    synsets = {}
    for line in text.splitlines():
        if not line or line.startswith(" "):  # licence header lines start with spaces
            continue
        fields = line.split(" | ", 1)[0].split()
        offset, word_count = fields[0], int(fields[3], 16)
        lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(word_count)]
        cursor = 4 + 2 * word_count
        pointer_count = int(fields[cursor])
        hypernyms = []
        for i in range(pointer_count):
            symbol, target, pos = fields[cursor + 1 + 4 * i : cursor + 4 + 4 * i]
            if symbol in ("@", "@i") and pos == "n":
                hypernyms.append(f"n{target}")
        synsets[f"n{offset}"] = (lemmas, hypernyms)
    return synsets


def prepare(parts: Mapping[str, bytes]) -> bytes:
    """Pull-time step "imagenet-wordnet-taxonomy": the 1000 class wnids ("synsets") and
    WordNet's data.noun ("wordnet") -> compact JSON of the classes' hypernym closure."""
    classes = parts["synsets"].decode().split()
    wordnet = _parse_data_noun(parts["wordnet"].decode("utf-8"))
    kept: dict[str, dict[str, list[str]]] = {}
    pending = list(classes)
    while pending:
        wnid = pending.pop()
        if wnid in kept:
            continue
        lemmas, hypernyms = wordnet[wnid]
        kept[wnid] = {"lemmas": lemmas, "hypernyms": hypernyms}
        pending.extend(hypernyms)
    document = {"classes": classes, "synsets": dict(sorted(kept.items()))}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
