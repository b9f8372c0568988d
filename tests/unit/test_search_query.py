from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storyline.errors import InvalidInput
from storyline.kernel.search import MAX_TERMS, SearchQuery, Term, parse, tokens


def _message(text: str | None) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    error = caught.value
    assert error.details[0]["field"] == "q"
    return error.message


def test_words_are_prefixes_and_all_required() -> None:
    query = parse("frob  Widget")
    assert query.terms == (
        Term(tokens=("frob",), prefix=True),
        Term(tokens=("Widget",), prefix=True),
    )
    assert query.fts5() == '"frob"* AND "Widget"*'
    assert query.tsquery() == "('frob':*) & ('Widget':*)"


def test_quoted_phrase_is_exact_unless_starred() -> None:
    assert parse('"big red button"').terms == (Term(tokens=("big", "red", "button"), prefix=False),)
    assert parse('"big red"').fts5() == '"big red"'
    assert parse('"big red"*').tsquery() == "('big' <-> 'red':*)"


def test_negation_of_words_and_phrases() -> None:
    query = parse('crash -windows -"blue screen"')
    assert [t.negated for t in query.terms] == [False, True, True]
    assert query.fts5() == '("crash"*) NOT ("windows"* OR "blue screen")'
    assert query.tsquery() == "('crash':*) & !('windows':*) & !('blue' <-> 'screen')"


def test_punctuation_splits_words_like_the_indexes_do() -> None:
    assert parse("openstack/nova").terms == (Term(tokens=("openstack", "nova"), prefix=True),)
    assert parse("user1@example.org").fts5() == '"user1 example org"*'
    assert tokens("don\u2019t stop\u2014ever, x_y 3.14 caf\u00e9") == (
        "don",
        "t",
        "stop",
        "ever",
        "x",
        "y",
        "3",
        "14",
        "caf\u00e9",
    )


def test_mysql_style_operators_are_accepted() -> None:
    assert parse("+frob*").terms == (Term(tokens=("frob",), prefix=True),)


def test_operator_words_are_searched_for_not_obeyed() -> None:
    assert parse("NOT OR NEAR").fts5() == '"NOT"* AND "OR"* AND "NEAR"*'


def test_lone_punctuation_is_ignored() -> None:
    assert parse('frob - && ""').terms == (Term(tokens=("frob",), prefix=True),)


@pytest.mark.parametrize("text", [None, "", "   ", "\t\n"])
def test_empty_query_is_refused(text: str | None) -> None:
    assert "must not be empty" in _message(text)


def test_unbalanced_quote_says_where() -> None:
    message = _message('frob "big red')
    assert "character 6" in message
    assert "never closed" in message


def test_only_exclusions_is_refused() -> None:
    assert "only excludes" in _message("-frob -widget")


def test_only_punctuation_is_refused() -> None:
    assert "only punctuation" in _message("&& ||")


def test_limits() -> None:
    assert "at most" in _message(" ".join(["w"] * (MAX_TERMS + 1)))
    assert "at most" in _message("x" * 1001)
    assert "at most" in _message("x" * 201)


@given(st.text(max_size=200))
def test_any_input_parses_or_is_refused_clearly(text: str) -> None:
    try:
        query = parse(text)
    except InvalidInput as error:
        refused: InvalidInput | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.details[0]["field"] == "q"
        return
    assert isinstance(query, SearchQuery)
    assert query.required
    for term in query.terms:
        assert term.tokens
        assert all(token.isalnum() for token in term.tokens)
    assert query.fts5()
    assert query.tsquery()
