"""All models, imported here so that `Base.metadata` is complete."""

from storyline.db.models.auth import (
    AuditEvent,
    Invitation,
    LocalCredential,
    LoginAttempt,
    OidcLogin,
    UserIdentity,
    WebSession,
)
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
    "AuditEvent",
    "Branch",
    "Comment",
    "CommentHistory",
    "Event",
    "Invitation",
    "LocalCredential",
    "LoginAttempt",
    "Milestone",
    "OidcLogin",
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
    "UserIdentity",
    "UserPreference",
    "WebSession",
]
