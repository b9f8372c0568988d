"""The tracker's JSON API: projects, groups, branches, milestones, stories,
tasks, comments, tags, links, the timeline and search."""

from storyline.tracker.api import (
    branches,
    comments,
    events,
    milestones,
    project_groups,
    projects,
    search,
    stories,
    story_links,
    tags,
    tasks,
    team_projects,
)

# In the order they are tried: search first (the resources' /{id} paths would
# take "search" for an id), then the busiest.
ROUTERS = (
    search.router,
    stories.router,
    tasks.router,
    comments.router,
    story_links.router,
    events.router,
    tags.router,
    projects.router,
    project_groups.router,
    branches.router,
    milestones.router,
    team_projects.router,
)
# Mounted after every subsystem's ROUTERS: paths that swallow the rest.
CATCH_ALL_ROUTERS = (projects.by_name,)
