"""JSON over HTTP: the StoryBoard-compatible /v1 API. Only this package and
`storyline.web` import the web framework."""
