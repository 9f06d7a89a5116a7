"""Label names, parents and categories for the ImageNet classifier and the COCO detector.

Two sources meet here:
- WordNet 3.0 (Debian `wordnet-base`): every ImageNet-1k class is a WordNet noun
  synset (wnid n02123045 is offset 02123045 in `data.noun`), so its hypernym chain
  says that a tabby is a domestic cat, a feline, a carnivore, a mammal... The pull
  step `imagenet-wordnet-taxonomy` (`openrek.models.convert.wordnet_taxonomy`) keeps,
  from the 15 MB `data.noun`, only the synsets on the chains of the 1000 classes (with
  their lemmas and hypernyms), in the classifier's output order (timm's
  `imagenet_synsets.txt`).
- `vocabulary.json` (curated here): Rekognition-style concepts ("Cat", "Dog",
  "Fruit", "Vehicle"...), each naming the WordNet synsets it covers, the COCO classes
  that are instances of it, its parent concepts, aliases and AWS label categories.

A concept's classifier probability is the probability mass of every ImageNet class
beneath any of its synsets, so "Cat" adds up tabby, tiger cat, Persian, Siamese and
Egyptian cat instead of trusting one breed's score. Classes no concept covers keep
their own WordNet lemma, title-cased, as a leaf label under the nearest concepts
above them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Concept:
    name: str
    parents: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    synsets: tuple[str, ...] = ()
    coco: tuple[str, ...] = ()


@dataclass
class Taxonomy:
    concepts: dict[str, Concept]
    # Output index of each classifier class -> the concepts its probability counts for.
    class_concepts: list[tuple[str, ...]]
    ancestors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    coco_concepts: dict[str, str] = field(default_factory=dict)
    concept_classes: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def load(cls, taxonomy_path: Path, vocabulary: Mapping[str, Any] | None = None) -> Taxonomy:
        wordnet = json.loads(taxonomy_path.read_text())
        if vocabulary is None:
            vocabulary = json.loads(
                resources.files("openrek.inference.labels").joinpath("vocabulary.json").read_text()
            )
        return cls.build(wordnet, vocabulary)

    @classmethod
    def build(cls, wordnet: Mapping[str, Any], vocabulary: Mapping[str, Any]) -> Taxonomy:
        synsets = wordnet["synsets"]
        concepts = {
            name: Concept(
                name,
                tuple(raw.get("parents", ())),
                tuple(raw.get("aliases", ())),
                tuple(raw.get("categories", ())),
                tuple(raw.get("synsets", ())),
                tuple(raw.get("coco", ())),
            )
            for name, raw in vocabulary["concepts"].items()
        }
        by_synset: dict[str, list[str]] = {}
        for concept in concepts.values():
            for wnid in concept.synsets:
                by_synset.setdefault(wnid, []).append(concept.name)
        hidden = set(vocabulary.get("hidden_classes", ()))
        renamed = vocabulary.get("class_names", {})
        class_concepts = []
        for wnid in wordnet["classes"]:
            above = _synset_closure(wnid, synsets)
            covering = sorted({c for s in above for c in by_synset.get(s, ())})
            own = by_synset.get(wnid)
            if not own and wnid not in hidden:
                # No curated concept is this class itself: it becomes a leaf label
                # named after its WordNet lemma, under the concepts above it.
                name = renamed.get(wnid) or _title(synsets[wnid]["lemmas"][0])
                if name not in concepts:
                    concepts[name] = Concept(name, tuple(_most_specific(covering, concepts)))
                covering = sorted({*covering, name})
            class_concepts.append(tuple(covering))
        taxonomy = cls(concepts, class_concepts)
        taxonomy._index()
        return taxonomy

    def _index(self) -> None:
        for name in self.concepts:
            self.ancestors[name] = tuple(self._ancestors_of(name))
        for concept in self.concepts.values():
            for coco_name in concept.coco:
                self.coco_concepts[coco_name] = concept.name
        members: dict[str, list[int]] = {}
        for index, names in enumerate(self.class_concepts):
            for name in names:
                members.setdefault(name, []).append(index)
        self.concept_classes = {name: np.array(ix, dtype=np.int64) for name, ix in members.items()}

    def _ancestors_of(self, name: str) -> list[str]:
        """Every ancestor once, nearest first (breadth first: the vocabulary is a DAG)."""
        found: list[str] = []
        frontier = [name]
        while frontier:
            following = []
            for current in frontier:
                concept = self.concepts.get(current)
                if concept is None:
                    raise ValueError(f"unknown parent concept {current!r}")
                for parent in concept.parents:
                    if parent == name:
                        raise ValueError(f"vocabulary cycle through {name}")
                    if parent not in found:
                        found.append(parent)
                        following.append(parent)
            frontier = following
        return found

    def roots(self, name: str) -> set[str]:
        """The top-level concepts (no parents) a concept descends from: its kinds."""
        lineage = (name, *self.ancestors[name])
        return {n for n in lineage if not self.concepts[n].parents}

    def categories_of(self, name: str) -> tuple[str, ...]:
        """Own categories, else the nearest ancestor's (leaf labels inherit theirs)."""
        for candidate in (name, *self.ancestors[name]):
            if self.concepts[candidate].categories:
                return self.concepts[candidate].categories
        return ()

    def concept_probabilities(self, probabilities: np.ndarray) -> dict[str, float]:
        """Each concept's probability: the mass of the classifier classes beneath it."""
        return {name: float(probabilities[indices].sum()) for name, indices in self.concept_classes.items()}


def _synset_closure(wnid: str, synsets: Mapping[str, Any]) -> set[str]:
    seen = set()
    pending = [wnid]
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending.extend(synsets[current]["hypernyms"])
    return seen


def _most_specific(names: list[str], concepts: Mapping[str, Concept]) -> list[str]:
    """Drop the names that are ancestors (by vocabulary parents) of another name."""

    def ancestors(name: str) -> set[str]:
        found: set[str] = set()
        pending = list(concepts[name].parents)
        while pending:
            parent = pending.pop()
            if parent not in found:
                found.add(parent)
                pending.extend(concepts[parent].parents)
        return found

    implied = set().union(*(ancestors(n) for n in names)) if names else set()
    return [n for n in names if n not in implied]


def _title(lemma: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in lemma.split(" "))
