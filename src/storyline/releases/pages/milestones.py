"""Milestone pages: where a cycle milestone stands for a project, a group or
the whole cycle; a project's page in a cycle (each milestone's counts); and,
on the story page, the story's targets with a form to target it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from storyline.kernel.validation import Id, parse_id
from storyline.releases import cycles, targeting
from storyline.releases.targeting import LISTS, Scope, TargetIn, UntargetIn
from storyline.web.panels import STORY, Panel
from storyline.web.rendering import PageRoute, fragment, redirect, render
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The story lists of a milestone page are in full up to this many stories;
# beyond it, the page says how many more the API pages through.
SHOWN = 500
LABELS = {
    "slipping": "Slipping",
    "not_started": "Not started",
    "in_progress": "In progress",
    "done": "Done",
}


def _scope(project: str, group: str) -> Scope:
    return Scope(
        project_id=parse_id(project, "project") if project else None,
        project_group_id=parse_id(group, "group") if group else None,
    )


@router.get("/cycles/{name}/milestones/{number:int}")
def milestone_page(
    ctx: PageDep, name: str, number: int, project: str = "", group: str = ""
) -> Response:
    scope = _scope(project, group)
    with ctx.container.db.read() as session:
        cycle = cycles.get_cycle(session, name)
        entry = targeting.milestone_entry(session, cycle, number, by_number=True)
        status = targeting.milestone_status(
            session, actor=ctx.actor, cycle=cycle, entry=entry, scope=scope
        )
        projects, groups = targeting.cycle_scopes(session, cycle)
        return render(
            ctx,
            "releases/milestone.html",
            cycle=cycle,
            entry=entry,
            milestone=status,
            lists=[(key, LABELS[key], status.having(key)) for key in LISTS[::-1]],
            shown=SHOWN,
            projects=projects,
            groups=groups,
            scope=scope,
            milestones=cycles.milestones(session, cycle.id),
        )


@router.get("/cycles/{name}/projects/{project_id:int}")
def project_page(ctx: PageDep, name: str, project_id: int) -> Response:
    with ctx.container.db.read() as session:
        cycle = cycles.get_cycle(session, name)
        overview = targeting.cycle_overview(
            session, actor=ctx.actor, cycle=cycle, scope=Scope(project_id=project_id)
        )
        projects, _ = targeting.cycle_scopes(session, cycle)
        return render(
            ctx,
            "releases/milestone_project.html",
            cycle=cycle,
            project_name=dict(projects)[project_id],
            project_id=project_id,
            overview=overview,
        )


@router.post("/stories/{story_id:int}/targets")
def target_story(ctx: FormDep, story_id: Id, choice: Annotated[str, Form()]) -> Response:
    """`choice` is "entry_id:project_id", one of the panel's options."""
    entry, _, project = choice.partition(":")
    data = TargetIn(entry_id=parse_id(entry, "choice"), project_id=parse_id(project, "choice"))
    with ctx.container.db.write() as session:
        targeting.target(session, actor=ctx.actor, story_id=story_id, data=data)
    return redirect(ctx, f"/stories/{story_id}#targets")


@router.post("/stories/{story_id:int}/targets/remove")
def untarget_story(
    ctx: FormDep,
    story_id: Id,
    cycle: Annotated[str, Form()],
    task: Annotated[str, Form()],
) -> Response:
    data = UntargetIn(cycle_id=parse_id(cycle, "cycle"), task_id=parse_id(task, "task"))
    with ctx.container.db.write() as session:
        targeting.untarget(session, actor=ctx.actor, story_id=story_id, data=data)
    return redirect(ctx, f"/stories/{story_id}#targets")


def story_panel(session: Session, ctx: PageContext, values: Mapping[str, Any]) -> Markup:
    story_id = int(values["story_id"])
    found = targeting.story_targets(session, actor=ctx.actor, story_id=story_id)
    choices = targeting.target_choices(session, actor=ctx.actor, story_id=story_id)
    if not found.targets and not choices:
        # The story's projects take part in no cycle: nothing to show.
        return Markup("")
    return fragment(
        ctx, "releases/milestone_story_targets.html", story_id=story_id, found=found,
        choices=choices,
    )  # fmt: skip


PANELS = (Panel(STORY, story_panel),)
