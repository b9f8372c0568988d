"""The task counts stored on a story stay equal to a fresh count of its tasks
when many writers change the tasks of the same stories at once."""

from __future__ import annotations

import random
import threading
from collections import Counter

from sqlalchemy import select

from storyline.bootstrap import Container
from storyline.domain.statuses import TASK_STATUSES, story_status
from storyline.kernel.access import Actor
from storyline.tracker import tasks
from storyline.tracker.models import Story, Task
from storyline.tracker.tasks import TaskIn
from tests.factories import Factory

THREADS = 8
ROUNDS = 6


def _stored_and_recounted(container: Container, story_id: int) -> tuple[dict[str, int], ...]:
    with container.db.read() as session:
        story = session.get(Story, story_id)
        assert story is not None
        stored = {key: getattr(story, f"{key}_count") for key in TASK_STATUSES}
        stored_status = story.status
        rows = session.scalars(select(Task.status).where(Task.story_id == story_id)).all()
    recounted = dict.fromkeys(TASK_STATUSES, 0) | dict(Counter(rows))
    assert stored_status == story_status(recounted)
    return stored, recounted


def test_concurrent_task_writes_keep_counts_exact(factory: Factory) -> None:
    admin = factory.admin()
    user = factory.user()
    project = factory.project(admin)
    first = factory.story(user)["id"]
    second = factory.story(user)["id"]
    actor = Actor(user_id=user.id, can_write=True)
    db = factory.container.db
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[int] = []
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                with db.write() as session:
                    task = tasks.create_task(
                        session,
                        actor=actor,
                        data=TaskIn(title=f"t{seed}", story_id=first, project_id=project["id"]),
                    )
                    mine.append(task.id)
                with db.write() as session:
                    tasks.update_task(
                        session,
                        actor=actor,
                        task_id=rng.choice(mine),
                        changes={"status": rng.choice(list(TASK_STATUSES))},
                    )
                # Moves in both directions take both story locks, in id order.
                with db.write() as session:
                    tasks.update_task(
                        session,
                        actor=actor,
                        task_id=rng.choice(mine),
                        changes={"story_id": rng.choice([first, second])},
                    )
            with db.write() as session:
                tasks.delete_task(session, actor=actor, task_id=mine.pop())
        except BaseException as error:  # collected and reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    total = 0
    for story_id in (first, second):
        stored, recounted = _stored_and_recounted(factory.container, story_id)
        assert stored == recounted
        total += sum(recounted.values())
    assert total == THREADS * (ROUNDS - 1)
