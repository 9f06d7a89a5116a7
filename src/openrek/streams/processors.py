"""What the stream processor operations use: the store and the runner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openrek.streams.runner import StreamRunner
from openrek.streams.store import StreamStore, open_stream_store

if TYPE_CHECKING:
    from openrek.services import Services


class StreamProcessors:
    def __init__(self, services: Services) -> None:
        self.store: StreamStore = open_stream_store(services.settings)
        self.runner = StreamRunner(services, self.store)
        self.max_running = services.settings.max_running_stream_processors

    def close(self) -> None:
        self.runner.close()
        self.store.close()
