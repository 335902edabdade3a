"""`uvicorn app.main:app`: the explorer with the model named by the settings."""

from app.api.app import create_app

app = create_app()
