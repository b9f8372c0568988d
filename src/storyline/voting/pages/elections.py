"""The election pages: the list of elections and polls, one election's page
(its window, candidates, turnout, and the reader's place on the electorate),
the form that writes one, and the officials' buttons (open, close, publish
the results). The ballot and the results have pages of their own.

The forms call the services the API calls, which decide who may do what
(administrators create, officials change, open and close); a draft is seen
through the gate by its officials only, and is a 404 for everyone else.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from storyline.elections import METHODS
from storyline.errors import Conflict, InvalidInput, PreconditionFailed, StorylineError
from storyline.http.preconditions import form_version
from storyline.kernel import markdown
from storyline.kernel.access import require_superuser, results_visible
from storyline.kernel.paging import PageRequest
from storyline.kernel.schema import utcnow
from storyline.kernel.validation import Id, parse_id, validate
from storyline.tracker.page_data import load_names
from storyline.voting import ballots, elections
from storyline.voting.elections import (
    PROPORTIONAL_MODES,
    WHILE_OPEN,
    ElectionChange,
    ElectionIn,
)
from storyline.voting.models import CLOSED, DRAFT, ELECTORATE_TYPES, KINDS, OPEN, Election
from storyline.web.conflicts import check_version
from storyline.web.rendering import PageRoute, redirect, render, sign_in_first
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TextField = Annotated[str, Form(max_length=10_000)]
# The list shows this many of each state; the API pages through all of them.
LIST_ROWS = 100
# The form's datetime-local inputs: minutes, no zone (the zone is its own field).
LOCAL_TIME = "%Y-%m-%dT%H:%M"


class ElectionForm(BaseModel):
    """The fields of the election form, as typed (checkboxes are "on" or absent)."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field(default="", max_length=1000)
    kind: str = Field(default="election", max_length=20)
    description: str = Field(default="", max_length=20_000)
    method: str = Field(default="schulze", max_length=50)
    seats: str = Field(default="1", max_length=20)
    proportional: str = Field(default="", max_length=20)
    no_opinion: str = Field(default="", max_length=10)
    candidates: str = Field(default="", max_length=100_000)
    electorate_type: str = Field(default="users", max_length=20)
    user_ids: str = Field(default="", max_length=100_000)
    team_id: str = Field(default="", max_length=20)
    project_ids: str = Field(default="", max_length=10_000)
    project_group_id: str = Field(default="", max_length=20)
    since: str = Field(default="", max_length=20)
    until: str = Field(default="", max_length=20)
    extra_user_ids: str = Field(default="", max_length=100_000)
    opens_at: str = Field(default="", max_length=30)
    closes_at: str = Field(default="", max_length=30)
    timezone: str = Field(default="UTC", max_length=64)
    results_public: str = Field(default="", max_length=10)
    live_results: str = Field(default="", max_length=10)
    # The fields' version when the form was shown (web.conflicts).
    version: str = Field(default="", max_length=2000)


ElectionFormDep = Annotated[ElectionForm, Form()]

ELECTORATE_LABELS = {
    "users": "Listed users",
    "team": "The members of a team",
    "contributors": "Contributors to projects",
}

# What a conflict message calls each field.
LABELS = {
    "title": "the title",
    "description": "the description",
    "closes_at": "the close",
    "timezone": "the time zone",
    "results_public": "whether results are public",
    "kind": "the kind",
    "method": "the method",
    "seats": "the seats",
    "proportional": "the proportional mode",
    "no_opinion": "whether no opinion is allowed",
    "candidates": "the candidates",
    "electorate": "the electorate",
    "opens_at": "the opening",
    "live_results": "live results",
}


# Times: the window is stored in UTC and typed and shown in the election's zone.


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_input(moment: dt.datetime, zone: str) -> str:
    return moment.astimezone(_zone(zone)).strftime(LOCAL_TIME)


def window_time(moment: dt.datetime, zone: str) -> dict[str, str]:
    """A moment as the page shows it: in the election's zone and in UTC."""
    here = moment.astimezone(_zone(zone))
    utc = moment.astimezone(dt.UTC)
    return {
        "iso": utc.isoformat(),
        "local": f"{here:%Y-%m-%d %H:%M} {here.tzname()}",
        "utc": f"{utc:%Y-%m-%d %H:%M} UTC",
    }


def _parse_local(text: str, zone: str, field: str) -> dt.datetime:
    try:
        naive = dt.datetime.strptime(text.strip(), LOCAL_TIME)
    except ValueError:
        raise InvalidInput.field(field, "enter a date and a time") from None
    try:
        tz = zoneinfo.ZoneInfo(zone.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.field(
            "timezone", "must be an IANA time zone such as Europe/Paris"
        ) from None
    # A time the clocks skip or repeat (a DST change) takes its first meaning.
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


# Parsing the other fields into what the services take.


def _ids(text: str, field: str) -> list[int]:
    return [parse_id(part, field) for part in re.split(r"[\s,]+", text.strip()) if part]


def _one_id(text: str, field: str) -> int | None:
    return parse_id(text, field) if text.strip() else None


def _candidates(text: str, statements: dict[str, str | None]) -> list[dict[str, Any]]:
    """One candidate a line: "Name", or "Name | user id". A candidate kept by
    name keeps the statement written for it (the form does not show them)."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, bar, user = line.rpartition("|") if "|" in line else (line, "", "")
        user_id = None
        if bar:
            try:
                user_id = parse_id(user, "candidates")
            except InvalidInput:
                raise InvalidInput.field(
                    "candidates", f"line {number}: after “|” comes a user id"
                ) from None
        found.append(
            {
                "name": name.strip(),
                "user_id": user_id,
                "statement": statements.get(name.strip().casefold()),
            }
        )
    return found


def _electorate(form: ElectionForm) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": form.electorate_type}
    if form.electorate_type == "users":
        spec["user_ids"] = _ids(form.user_ids, "user_ids")
    elif form.electorate_type == "team":
        spec["team_id"] = _one_id(form.team_id, "team_id")
    elif form.electorate_type == "contributors":
        spec["project_ids"] = _ids(form.project_ids, "project_ids") or None
        spec["project_group_id"] = _one_id(form.project_group_id, "project_group_id")
        spec["since"] = form.since.strip() or None
        spec["until"] = form.until.strip() or None
    spec["extra_user_ids"] = _ids(form.extra_user_ids, "extra_user_ids") or None
    return spec


def _body(form: ElectionForm, statements: dict[str, str | None]) -> dict[str, Any]:
    """Everything the form writes, keyed as the services' models are."""
    return {
        "kind": form.kind,
        "title": form.title,
        "description": form.description.strip() or None,
        "method": form.method,
        "seats": form.seats.strip(),
        "proportional": form.proportional or None,
        "no_opinion": form.no_opinion == "on",
        "candidates": _candidates(form.candidates, statements),
        "electorate": _electorate(form),
        "opens_at": _parse_local(form.opens_at, form.timezone, "opens_at"),
        "closes_at": _parse_local(form.closes_at, form.timezone, "closes_at"),
        "timezone": form.timezone.strip(),
        "results_public": form.results_public == "on",
        "live_results": form.live_results == "on",
    }


def _form_errors(error: StorylineError) -> dict[str, str]:
    """Messages by form field. The services name fields by their path in the
    API's body ("electorate.team_id", "candidates.2.name"); the form has one
    input for each electorate key and one textarea for all the candidates."""
    found: dict[str, str] = {}
    details = error.details
    if isinstance(details, list):
        for item in details:
            if not isinstance(item, dict):
                continue
            path = str(item.get("field", "")).split(".")
            message = str(item.get("message", error.message))
            if path[0] == "candidates":
                name = "candidates"
            elif path[0] == "electorate":
                name = path[1] if len(path) > 1 else "electorate_type"
                name = "electorate_type" if name == "type" else name
            elif path[0] in ElectionForm.model_fields:
                name = path[0]
            else:
                name = ""
            found.setdefault(name, message)
    elif isinstance(details, dict) and isinstance(details.get("field"), str):
        found[str(details["field"]).split(".")[-1]] = error.message
    if not found or isinstance(error, (Conflict, PreconditionFailed)):
        found.setdefault("", error.message)
    return found


# What an election's form shows, and its version.


def _candidate_lines(session: Session, election: Election) -> str:
    return "\n".join(
        f"{c.name} | {c.user_id}" if c.user_id is not None else c.name
        for c in elections.candidates(session, election.id)
    )


def _statements(session: Session, election: Election | None) -> dict[str, str | None]:
    if election is None:
        return {}
    return {c.name.casefold(): c.statement for c in elections.candidates(session, election.id)}


def _values(session: Session, election: Election) -> dict[str, str]:
    spec = elections.electorate_of(election)

    def joined(key: str) -> str:
        return ", ".join(str(i) for i in spec.get(key) or [])

    return {
        "title": election.title,
        "kind": election.kind,
        "description": election.description or "",
        "method": election.method,
        "seats": str(election.seats),
        "proportional": election.proportional or "",
        "no_opinion": "on" if election.no_opinion else "",
        "candidates": _candidate_lines(session, election),
        "electorate_type": spec["type"],
        "user_ids": joined("user_ids"),
        "team_id": str(spec.get("team_id") or ""),
        "project_ids": joined("project_ids"),
        "project_group_id": str(spec.get("project_group_id") or ""),
        "since": spec.get("since") or "",
        "until": spec.get("until") or "",
        "extra_user_ids": joined("extra_user_ids"),
        "opens_at": local_input(election.opens_at, election.timezone),
        "closes_at": local_input(election.closes_at, election.timezone),
        "timezone": election.timezone,
        "results_public": "on" if election.results_public else "",
        "live_results": "on" if election.live_results else "",
    }


def _fields(session: Session, election: Election) -> dict[str, Any]:
    """The stored fields the edit form's version is made of."""
    return {
        "title": election.title,
        "description": election.description,
        "closes_at": election.closes_at.isoformat(),
        "timezone": election.timezone,
        "results_public": election.results_public,
        "kind": election.kind,
        "method": election.method,
        "seats": election.seats,
        "proportional": election.proportional,
        "no_opinion": election.no_opinion,
        "candidates": _candidate_lines(session, election),
        "electorate": election.electorate,
        "opens_at": election.opens_at.isoformat(),
        "live_results": election.live_results,
    }


def _form_page(
    ctx: PageContext,
    *,
    election: Election | None,
    values: dict[str, str],
    version: str = "",
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        ctx, "voting/form.html", status=400 if errors else 200, election=election,
        values=values, errors=errors or {}, version=version,
        kinds=[(kind, kind.capitalize()) for kind in KINDS],
        methods=[(method, method) for method in sorted(METHODS)],
        proportional_modes=[("", "none"), *((mode, mode) for mode in PROPORTIONAL_MODES)],
        electorate_types=[(kind, ELECTORATE_LABELS[kind]) for kind in ELECTORATE_TYPES],
        # Once voting has opened only these may change; the form shows the rest.
        writable=WHILE_OPEN if election is not None and election.state != DRAFT else None,
    )  # fmt: skip


# The list


@router.get("/elections")
def election_list(ctx: PageDep) -> Response:
    with ctx.container.db.read() as session:

        def of(state: str, sort_dir: str) -> Sequence[Election]:
            page = PageRequest(limit=LIST_ROWS, sort_field="closes_at", sort_dir=sort_dir)
            return elections.list_elections(session, actor=ctx.actor, page=page, state=state).items

        # Drafts come back only to their officials: the gate filters them.
        open_now, drafts, closed = of(OPEN, "asc"), of(DRAFT, "asc"), of(CLOSED, "desc")
        return render(
            ctx, "voting/list.html", open_now=open_now, drafts=drafts, closed=closed,
            turnout=ballots.turnouts(session, [e.id for e in open_now]),
            when=window_time,
        )  # fmt: skip


# Creating and changing


@router.get("/elections/new")
def new_election(ctx: PageDep) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    require_superuser(ctx.actor)
    start = utcnow().replace(second=0, microsecond=0) + dt.timedelta(days=1)
    values = ElectionForm(
        opens_at=start.strftime(LOCAL_TIME),
        closes_at=(start + dt.timedelta(days=7)).strftime(LOCAL_TIME),
        results_public="on",
    ).model_dump()
    return _form_page(ctx, election=None, values=values)


@router.post("/elections/new")
def create_election(ctx: FormDep, form: ElectionFormDep) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    try:
        with ctx.container.db.write() as session:
            data = validate(ElectionIn, _body(form, {}))
            election_id = elections.create_election(session, actor=ctx.actor, data=data).id
    except (InvalidInput, Conflict) as error:
        return _form_page(ctx, election=None, values=form.model_dump(), errors=_form_errors(error))
    return redirect(ctx, f"/elections/{election_id}")


@router.get("/elections/{election_id:int}/edit")
def edit_election(ctx: PageDep, election_id: Id) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    with ctx.container.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        elections.require_official(session, ctx.actor, election, "change it")
        return _form_page(
            ctx,
            election=election,
            values=_values(session, election),
            version=form_version(_fields(session, election)),
        )


@router.post("/elections/{election_id:int}/edit")
def change_election(ctx: FormDep, election_id: Id, form: ElectionFormDep) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    try:
        with ctx.container.db.write() as session:
            election = elections.get_election(
                session, actor=ctx.actor, election_id=election_id, for_update=True
            )
            check_version(
                session, actor=ctx.actor, version=form.version,
                current=_fields(session, election), what="election", labels=LABELS, events=None,
            )  # fmt: skip
            if election.state == DRAFT:
                body = _body(form, _statements(session, election))
            else:
                # The form shows the fixed fields read-only and does not send them.
                body = {
                    "title": form.title,
                    "description": form.description.strip() or None,
                    "closes_at": _parse_local(form.closes_at, form.timezone, "closes_at"),
                    "timezone": form.timezone.strip(),
                    "results_public": form.results_public == "on",
                }
            elections.update_election(
                session, actor=ctx.actor, election=election, data=validate(ElectionChange, body)
            )
    except (InvalidInput, Conflict, PreconditionFailed) as error:
        with ctx.container.db.read() as session:
            election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
            typed = form.model_dump()
            if election.state != DRAFT:
                # The read-only fields show what is stored, not what was posted.
                typed = {**_values(session, election), **{k: typed[k] for k in WHILE_OPEN}}
            return _form_page(
                ctx, election=election, values=typed, errors=_form_errors(error),
                version=form_version(_fields(session, election)),
            )  # fmt: skip
    return redirect(ctx, f"/elections/{election_id}")


# One election


def _election_page(
    ctx: PageContext, election_id: int, *, errors: dict[str, str] | None = None
) -> Response:
    with ctx.container.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        official = ctx.signed_in is not None and elections.is_official(session, ctx.actor, election)
        officials = elections.officials(session, [election.id])[election.id]
        names = load_names(session, actor=ctx.actor, user_ids=officials)
        cands = elections.candidates(session, election.id)
        electorate_size = election.electorate_size
        if official and election.state == DRAFT:
            # Who it would be now; it is frozen when voting opens.
            electorate_size = len(
                elections.electorate_members(session, actor=ctx.actor, election=election)
            )
        return render(
            ctx, "voting/election.html", status=400 if errors else 200, election=election,
            candidates=cands,
            statements={c.id: markdown.render(c.statement) for c in cands},
            description_html=markdown.render(election.description),
            officials=[names.user(uid) for uid in officials], official=official,
            opens=window_time(election.opens_at, election.timezone),
            closes=window_time(election.closes_at, election.timezone),
            voting_open=elections.voting_is_open(election, utcnow()),
            turnout=ballots.turnout(session, election) if election.state != DRAFT else None,
            electorate_size=electorate_size,
            me=elections.membership(session, actor=ctx.actor, election=election),
            following=elections.is_following(session, actor=ctx.actor, election=election),
            results_available=results_visible(session, actor=ctx.actor, election=election),
            errors=errors or {},
        )  # fmt: skip


@router.get("/elections/{election_id:int}")
def election_page(ctx: PageDep, election_id: Id) -> Response:
    return _election_page(ctx, election_id)


def _act(ctx: PageContext, election_id: int, action: Callable[[Session], object]) -> Response:
    """Run one change to the election and go back to its page, or show the
    page with why it could not be done."""
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    try:
        with ctx.container.db.write() as session:
            action(session)
    except (InvalidInput, Conflict) as error:
        return _election_page(ctx, election_id, errors={"": error.message})
    return redirect(ctx, f"/elections/{election_id}")


@router.post("/elections/{election_id:int}/open")
def open_election(ctx: FormDep, election_id: Id) -> Response:
    def action(session: Session) -> None:
        election = elections.get_election(
            session, actor=ctx.actor, election_id=election_id, for_update=True
        )
        elections.open_election(session, actor=ctx.actor, election=election, now=utcnow())

    return _act(ctx, election_id, action)


@router.get("/elections/{election_id:int}/close")
def confirm_close(ctx: PageDep, election_id: Id) -> Response:
    """Closing ends voting for everyone and cannot be undone: ask first."""
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    with ctx.container.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        elections.require_official(session, ctx.actor, election, "close it")
        return render(
            ctx, "voting/close.html", election=election,
            turnout=ballots.turnout(session, election) if election.state != DRAFT else None,
            closes=window_time(election.closes_at, election.timezone),
        )  # fmt: skip


@router.post("/elections/{election_id:int}/close")
def close_election(ctx: FormDep, election_id: Id) -> Response:
    return _act(
        ctx,
        election_id,
        lambda session: ballots.close(
            session, actor=ctx.actor, election_id=election_id, now=utcnow()
        ),
    )


@router.post("/elections/{election_id:int}/results_public")
def publish_results(ctx: FormDep, election_id: Id, public: TextField = "yes") -> Response:
    def action(session: Session) -> None:
        election = elections.get_election(
            session, actor=ctx.actor, election_id=election_id, for_update=True
        )
        elections.update_election(
            session, actor=ctx.actor, election=election,
            data=ElectionChange(results_public=public == "yes"),
        )  # fmt: skip

    return _act(ctx, election_id, action)


@router.post("/elections/{election_id:int}/following")
def follow_election(ctx: FormDep, election_id: Id, following: TextField = "yes") -> Response:
    def action(session: Session) -> None:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        elections.follow(session, actor=ctx.actor, election=election, following=following == "yes")

    return _act(ctx, election_id, action)
