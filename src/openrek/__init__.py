"""openrek: a self-hosted Amazon Rekognition that speaks the AWS wire protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openrek.client import Client

__all__ = ["Client"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Imported lazily: `import openrek` (the CLI, tools) must not load the models stack.
    if name == "Client":
        from openrek.client import Client

        return Client
    raise AttributeError(name)
