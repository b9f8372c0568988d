"""The search query language, parsed once and compiled for each database.

Pure: no I/O and no SQL execution. The compiled strings are always passed to
the database as bound parameters, never spliced into SQL text.

Syntax (close to what StoryBoard users typed into MySQL's boolean mode):

- ``frob`` matches every word that starts with "frob" ("frobnicator");
- ``"exact phrase"`` matches the words next to each other, whole words only
  (``"exact phrase"*`` makes the last word a prefix);
- ``-word`` and ``-"a phrase"`` exclude what they would match;
- several items must all match (AND); a leading ``+`` is accepted and means
  the same, and a trailing ``*`` is accepted and changes nothing.

Words are split where the indexes split them: at every character that is not
a letter or a digit, so ``openstack/nova`` is the phrase ``openstack nova``
with "nova" as a prefix, and ``user@example.org`` finds that address.
Matching ignores case. Accents are significant, on both databases, so that
SQLite and PostgreSQL answer the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, column, func, literal, literal_column, select, table
from sqlalchemy.orm import InstrumentedAttribute, Session

from storyline.errors import InvalidInput

# Bounds that keep one query's cost predictable; far above what people type.
MAX_QUERY_LENGTH = 1000
MAX_TERMS = 32
MAX_WORD_LENGTH = 200


@dataclass(frozen=True)
class Term:
    """One item of the query: a word (one or more tokens) or a quoted phrase."""

    tokens: tuple[str, ...]
    # The last token matches as a prefix.
    prefix: bool
    negated: bool = False


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...]

    @property
    def required(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if not term.negated)

    @property
    def excluded(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.negated)

    def fts5(self) -> str:
        """An FTS5 MATCH expression.

        Every token is a double-quoted FTS5 string, so words such as AND,
        NOT or NEAR in the input are searched for, never obeyed.
        """
        required = " AND ".join(_fts5_term(term) for term in self.required)
        if not self.excluded:
            return required
        # FTS5's NOT is binary ("a NOT b"); one exclusion group keeps it so.
        excluded = " OR ".join(_fts5_term(term) for term in self.excluded)
        return f"({required}) NOT ({excluded})"

    def tsquery(self) -> str:
        """A PostgreSQL tsquery for ``to_tsquery('simple', ...)``."""
        parts = [_tsquery_term(term) for term in self.required]
        parts += ["!" + _tsquery_term(term) for term in self.excluded]
        return " & ".join(parts)


def _fts5_term(term: Term) -> str:
    quoted = '"' + " ".join(token.replace('"', '""') for token in term.tokens) + '"'
    return quoted + "*" if term.prefix else quoted


def _tsquery_lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery_term(term: Term) -> str:
    lexemes = [_tsquery_lexeme(token) for token in term.tokens]
    if term.prefix:
        lexemes[-1] += ":*"
    return "(" + " <-> ".join(lexemes) + ")"


def tokens(text: str) -> tuple[str, ...]:
    """Split text into words the way the indexes do: letters and digits only."""
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return tuple(words)


def _invalid(message: str, field: str) -> InvalidInput:
    return InvalidInput.field(field, message)


def parse(text: str | None, *, field: str = "q") -> SearchQuery:
    """Parse a search string; InvalidInput with a message a person can act on
    when it cannot be searched for."""
    if text is None or not text.strip():
        raise _invalid("must not be empty; give at least one word to search for", field)
    if len(text) > MAX_QUERY_LENGTH:
        raise _invalid(f"must be at most {MAX_QUERY_LENGTH} characters long", field)
    terms: list[Term] = []
    position, end = 0, len(text)
    while position < end:
        char = text[position]
        if char.isspace():
            position += 1
            continue
        negated = False
        # Leading operators: '-' excludes, '+' (MySQL's "required") is the default.
        while position < end and text[position] in "+-":
            negated = negated or text[position] == "-"
            position += 1
        if position < end and text[position] == '"':
            closing = text.find('"', position + 1)
            if closing < 0:
                raise _invalid(
                    f"the quote at character {position + 1} is never closed; "
                    'end the phrase with another "',
                    field,
                )
            words = tokens(text[position + 1 : closing])
            position = closing + 1
            prefix = position < end and text[position] == "*"
            if prefix:
                position += 1
        else:
            start = position
            while position < end and not text[position].isspace() and text[position] != '"':
                position += 1
            words = tokens(text[start:position])
            prefix = True
        if not words:
            # Punctuation on its own ("-", "&&", '""') has nothing to match.
            continue
        if any(len(word) > MAX_WORD_LENGTH for word in words):
            raise _invalid(f"words may be at most {MAX_WORD_LENGTH} characters long", field)
        terms.append(Term(tokens=words, prefix=prefix, negated=negated))
    if len(terms) > MAX_TERMS:
        raise _invalid(f"use at most {MAX_TERMS} words or phrases", field)
    if not terms:
        raise _invalid("has no words to search for (only punctuation)", field)
    if all(term.negated for term in terms):
        raise _invalid("give at least one word to search for; '-word' only excludes results", field)
    return SearchQuery(terms=tuple(terms))


# Matching in the databases' full-text indexes.

_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


@dataclass(frozen=True)
class Searchable:
    """A table with a full-text index: on SQLite the FTS5 table that shadows
    it, on PostgreSQL the stored tsvector column (both from migration 0002)."""

    table: str
    id_column: InstrumentedAttribute[int]
    fts_table: str
    pg_column: str = "search_fts"
    # On SQLite: search only these FTS5 columns (None: all of them); it must
    # be the same document as `pg_column`.
    fts_columns: tuple[str, ...] | None = None

    def matches(self, dialect: str, query: SearchQuery) -> ColumnElement[bool]:
        if dialect == "postgresql":
            # Not a model column (see the migration), hence named in SQL.
            vector: ColumnElement[Any] = literal_column(f"{self.table}.{self.pg_column}")
            tsquery = func.to_tsquery(_SIMPLE, literal(query.tsquery()))
            return vector.bool_op("@@")(tsquery)
        fts, match = self.fts5(query)
        return self.id_column.in_(select(fts.c.rowid).where(match))

    def fts5(self, query: SearchQuery, *, also: str = "") -> tuple[Any, ColumnElement[bool]]:
        """The FTS5 table and its MATCH condition for `query` (SQLite), with
        `also` an extra FTS5 condition of the server's own making."""
        expression = query.fts5()
        if self.fts_columns is not None:
            expression = "{" + " ".join(self.fts_columns) + "} : (" + expression + ")"
        if also:
            expression = f"({expression}) AND {also}"
        fts = table(self.fts_table, column("rowid"))
        return fts, literal_column(self.fts_table).bool_op("MATCH")(literal(expression))


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name
