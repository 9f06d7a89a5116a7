"""The web console: static pages served by `openrek serve` under /console.

The console holds no data and has no private way in: its pages are files of this
package (the same bytes for everyone), and they call the Rekognition API at `POST /`
like any SDK, signed with SigV4 in the browser when access keys are configured.
"""

from openrek.console.routes import CONSOLE_PATH, console_routes

__all__ = ["CONSOLE_PATH", "console_routes"]
