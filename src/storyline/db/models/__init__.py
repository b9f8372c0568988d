"""All models, imported here so that `Base.metadata` is complete."""

from storyline.db.models.comments import Comment, CommentHistory
from storyline.db.models.events import Event
from storyline.db.models.projects import Branch, Milestone, Project, ProjectGroup
from storyline.db.models.stories import Story, StoryAclTeam, StoryAclUser, StoryTag, Tag, Task
from storyline.db.models.subscriptions import Subscription
from storyline.db.models.users import (
    AccessToken,
    Team,
    TeamMembership,
    User,
    UserPreference,
)

__all__ = [
    "AccessToken",
    "Branch",
    "Comment",
    "CommentHistory",
    "Event",
    "Milestone",
    "Project",
    "ProjectGroup",
    "Story",
    "StoryAclTeam",
    "StoryAclUser",
    "StoryTag",
    "Subscription",
    "Tag",
    "Task",
    "Team",
    "TeamMembership",
    "User",
    "UserPreference",
]
