"""The AWS JSON 1.1 wire protocol: service model, validation, errors, SigV4, dispatch."""
