"""What a run is asked (`BenchOptions`) and what it answers (`BenchResult`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# StoryBoard 1.1.0 on 2 cores with 5,000 stories, in milliseconds.
STORYBOARD_MS = {
    "list": 267.0,
    "list_project": 118.0,
    "get": 16.0,
    "search": 280.0,
    "create_story": 19.0,
}


@dataclass(frozen=True, kw_only=True)
class BenchOptions:
    tier: str = "S"
    database: str = "sqlite"
    url: str | None = None
    requests: int = 200
    workers: int | None = None
    seed: int = 1
    # Seconds per throughput measurement (each read type, each concurrency).
    duration: float = 5.0
    concurrency: int = 8
    writes_per_writer: int = 25
    data_dir: Path = Path("var/bench")
    # Upper bound on the time spent measuring one request type.
    case_seconds: float = 60.0


@dataclass
class CaseResult:
    name: str
    label: str
    count: int = 0
    errors: int = 0
    median_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    sql_ms: float | None = None
    sql_method: str | None = None
    storyboard_ms: float | None = None
    error_samples: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.median_ms is None or not self.sql_ms:
            return None
        return self.median_ms / self.sql_ms

    @property
    def speedup(self) -> float | None:
        if self.median_ms is None or self.storyboard_ms is None:
            return None
        return self.storyboard_ms / self.median_ms


@dataclass
class BenchResult:
    tier: str
    database: str
    workers: int
    stories: int
    load_seconds: float | None
    cases: list[CaseResult] = field(default_factory=list)
    throughput: dict[str, dict[int, float]] = field(default_factory=dict)
    throughput_errors: int = 0
    writers: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for case, source in zip(data["cases"], self.cases, strict=True):
            case["api_over_sql"] = source.ratio
            case["speedup_vs_storyboard"] = source.speedup
        return data
