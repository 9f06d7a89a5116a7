"""Face Liveness: sessions, the capture page's protocol, and a verdict from measured signals.

See docs/liveness.md for the protocol and for what the verdict resists and what it
does not. It is not a certified presentation-attack detector.
"""
