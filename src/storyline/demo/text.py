"""Word lists and the synthetic text of titles, descriptions and comments."""

from __future__ import annotations

import numpy as np

from storyline.demo import sampling
from storyline.demo.sampling import IntArray


def _words(text: str) -> tuple[str, ...]:
    # Written as text for readability; duplicates would repeat tag names.
    return tuple(dict.fromkeys(text.split()))


# Common words first: titles draw from this list with a Zipf-like skew, so the
# early words are frequent and the synthetic tail is rare, as in real trackers.
WORDS = _words(
    "fix error when volume network instance server image fails create delete update "
    "support add remove api port config timeout missing invalid test tests docs "
    "documentation unit gate job release upgrade migration database quota scheduler "
    "compute storage backup snapshot flavor keystone token auth policy role project "
    "user group domain endpoint service driver plugin agent router subnet floating "
    "security rule bridge vlan tunnel dhcp metadata console log logging debug trace "
    "exception crash leak memory cpu performance slow race condition deadlock retry "
    "lock queue message notification event hook webhook task story board worklist "
    "python py3 dependency requirement constraint package wheel build ci zuul tox "
    "container kubernetes helm chart pod deployment manifest ansible playbook role "
    "inventory host cluster node rabbitmq mysql postgresql redis cache ttl expire "
    "cleanup refactor deprecate rename move split merge backport stable branch "
    "tempest scenario functional integration coverage lint pep8 typo wrong default "
    "option flag parameter argument header response request status code pagination "
    "limit marker sort filter search query index schema column table field value "
    "encoding unicode utf8 ipv6 ipv4 dns tls certificate ssl proxy balancer listener "
    "pool member health monitor alarm metric gnocchi telemetry placement resource "
    "provider allocation inventory trait aggregate zone region cell conductor api-ref "
    "microversion client cli shell command output format json yaml template heat "
    "stack orchestration workflow mistral trove manila share cinder nova neutron "
    "glance swift ironic baremetal octavia designate barbican secret key encryption"
)

FIRST_NAMES = _words(
    "Ada Alan Alice Amir Ana Anders Andrea Anna Arjun Ben Bianca Carlos Chen Chiara "
    "Chris Dana Daniel David Deepa Diego Dmitri Elena Emma Erik Fatima Felix Giulia "
    "Hana Hiro Ines Ivan Jae James Jana Jia Joao Jonas Julia Kai Kamal Karen Kenji "
    "Lars Laura Lea Lin Lucas Luis Maria Mark Maya Mei Miguel Mina Nadia Nikos Nora "
    "Olga Omar Pablo Paul Pedro Priya Rafael Ravi Rosa Sam Sara Sofia Tariq Thomas "
    "Tomas Uma Victor Wei Yara Yuki Zoe"
)
LAST_NAMES = _words(
    "Abe Adams Ahmed Andersen Bauer Becker Brown Chen Costa Dubois Eriksson Fischer "
    "Garcia Gomez Gupta Hansen Hoffmann Ito Ivanov Jensen Kim Kowalski Kumar Lee "
    "Lopez Martin Meyer Moreau Muller Nakamura Nguyen Novak Oliveira Park Patel "
    "Petrov Popescu Rossi Santos Schmidt Silva Singh Smith Suzuki Tanaka Taylor "
    "Wagner Wang Weber Wilson Wong Yamamoto Zhang"
)
ORGS = ("openstack", "openstack", "openstack", "starlingx", "airship", "zuul", "opendev", "kata")
EXTRA_TASK_TITLES = (
    "Backport to stable",
    "Update the documentation",
    "Add a functional test",
    "Fix the client",
    "Update the API reference",
    "Add a release note",
    "Adjust the deployment tooling",
    "Follow-up cleanup",
)
SYLLABLES = _words("ka lo mi ne ro su ta vi ze bo da fe gu hi jo ku la mo nu pi ri so tu")


def synthetic_words(rng: np.random.Generator, count: int) -> list[str]:
    """`count` distinct made-up words of two or three syllables, none of them in WORDS."""
    words: list[str] = []
    seen = set(WORDS)
    while len(words) < count:
        parts = rng.integers(0, len(SYLLABLES), size=int(rng.integers(2, 4)))
        word = "".join(SYLLABLES[p] for p in parts)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Text:
    """Titles and paragraphs built from a skewed vocabulary."""

    def __init__(self, seed: int) -> None:
        rng = sampling.rng(seed, 1)
        self.vocabulary = list(WORDS) + synthetic_words(rng, 1500)
        self.weights = sampling.zipf_weights(len(self.vocabulary), 0.9)
        sentences = [self._sentence(rng) for _ in range(3000)]
        self.paragraphs = [
            " ".join(sentences[i] for i in rng.integers(0, len(sentences), size=k))
            for k in rng.integers(1, 6, size=4000)
        ]

    def _sentence(self, rng: np.random.Generator) -> str:
        words = [self.vocabulary[i] for i in self.words(rng, int(rng.integers(6, 16)))]
        return " ".join(words).capitalize() + "."

    def words(self, rng: np.random.Generator, n: int) -> IntArray:
        return rng.choice(len(self.vocabulary), size=n, p=self.weights)

    def titles(self, rng: np.random.Generator, n: int) -> list[str]:
        lengths = rng.integers(3, 10, size=n)
        indexes = self.words(rng, int(lengths.sum())).tolist()
        vocabulary = self.vocabulary
        titles: list[str] = []
        position = 0
        for length in lengths.tolist():
            words = [vocabulary[i] for i in indexes[position : position + length]]
            position += length
            titles.append(" ".join(words).capitalize())
        return titles
