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
from storyline.db.models.boards import Board, BoardLane, BoardPermission
from storyline.db.models.comments import Comment, CommentHistory
from storyline.db.models.due_dates import (
    BoardDueDate,
    DueDate,
    DueDatePermission,
    WorklistDueDate,
)
from storyline.db.models.events import Event
from storyline.db.models.notifications import (
    DigestState,
    OutboxMessage,
    SubscriptionEvent,
    UnsubscribeToken,
    Webhook,
    WebhookDelivery,
)
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
from storyline.db.models.worklists import (
    FilterCriterion,
    Worklist,
    WorklistFilter,
    WorklistItem,
    WorklistPermission,
)

__all__ = [
    "AccessToken",
    "AuditEvent",
    "Board",
    "BoardDueDate",
    "BoardLane",
    "BoardPermission",
    "Branch",
    "Comment",
    "CommentHistory",
    "DigestState",
    "DueDate",
    "DueDatePermission",
    "Event",
    "FilterCriterion",
    "Invitation",
    "LocalCredential",
    "LoginAttempt",
    "Milestone",
    "OidcLogin",
    "OutboxMessage",
    "Project",
    "ProjectGroup",
    "Story",
    "StoryAclTeam",
    "StoryAclUser",
    "StoryTag",
    "Subscription",
    "SubscriptionEvent",
    "Tag",
    "Task",
    "Team",
    "TeamMembership",
    "UnsubscribeToken",
    "User",
    "UserIdentity",
    "UserPreference",
    "WebSession",
    "Webhook",
    "WebhookDelivery",
    "Worklist",
    "WorklistDueDate",
    "WorklistFilter",
    "WorklistItem",
    "WorklistPermission",
]
