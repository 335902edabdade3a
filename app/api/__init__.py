"""The web layer: FastAPI app factory, routes, schemas, request parsing and limits."""
