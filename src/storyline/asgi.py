"""The ASGI entry point for uvicorn: builds the app from the environment."""

from storyline.app import create_app
from storyline.bootstrap import build
from storyline.config import Settings

app = create_app(build(Settings.from_env()))
