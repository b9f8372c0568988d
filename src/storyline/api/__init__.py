"""The JSON API kit: what every subsystem's /v1 routes share (the request
context and paging, input checks, StoryBoard-compatible answers, member ids,
object role endpoints) and the system's own routes. It knows no subsystem:
the HTTP edge (`storyline.app`) mounts the subsystems' routers."""
