"""cursors.py: signed page tokens round-trip exactly, refuse tampering and other listings, and keep the way back."""
import pytest
from hypothesis import given, strategies as st

from dashboard.questions.cursors import MAX_TRAIL, CursorError, Cursors, Position
from dashboard.store import Keyset

ids = st.text(min_size=1, max_size=60)
keys = st.one_of(
    ids.map(lambda value: {"event_id": {"S": value}}),
    st.tuples(ids, ids).map(lambda pair: {"timestamp": {"S": pair[0]}, "event_id": {"S": pair[1]}}),
    st.binary(min_size=1, max_size=20).map(lambda value: {"event_id": {"B": value}}),
)
cursors = Cursors("0123456789abcdef-secret")


@given(keys, st.lists(keys, max_size=5), st.sampled_from(["scan", "timestamp:2024-01-01T00:00:00Z"]))
def test_a_position_round_trips_exactly(start, trail, scope):
    position = Position(start_key=start, trail=tuple(trail), number=len(trail) + 2)
    token = cursors.encode(position, scope)
    assert cursors.decode(token, scope) == position


def test_first_page_has_no_token_and_an_empty_token_is_the_first_page():
    assert cursors.encode(Position(), "scan") is None
    assert cursors.decode(None, "scan") == Position()
    assert cursors.decode("", "scan") == Position()


def test_tokens_are_url_safe():
    token = cursors.encode(Position(start_key={"event_id": {"S": "a/b c#d%é"}}, number=2), "scan")
    assert token is not None
    assert all(ch.isalnum() or ch in "-_." for ch in token)


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=255))
def test_any_tampered_byte_is_refused(index, replacement):
    token = cursors.encode(Position(start_key={"event_id": {"S": "s3-1"}}, number=2), "scan")
    assert token is not None
    index %= len(token)
    tampered = token[:index] + chr(replacement % 94 + 33) + token[index + 1:]
    if tampered == token:
        return
    with pytest.raises(CursorError):
        cursors.decode(tampered, "scan")


@pytest.mark.parametrize("garbage", ["x", "not-a-token", "....", "%%%", "a" * 20000, "eyJ2IjoxfQ.abc"])
def test_garbage_is_refused(garbage):
    with pytest.raises(CursorError):
        cursors.decode(garbage, "scan")


def test_a_token_from_another_secret_is_refused():
    token = Cursors("another-secret-0123456789").encode(Position(start_key={"event_id": {"S": "x"}}, number=2), "scan")
    with pytest.raises(CursorError, match="tampered"):
        cursors.decode(token, "scan")


def test_a_token_only_continues_its_own_listing():
    token = cursors.encode(Position(start_key={"event_id": {"S": "x"}}, number=2), "scan")
    with pytest.raises(CursorError, match="another listing"):
        cursors.decode(token, "timestamp:2024-01-01T00:00:00Z")


def test_following_then_preceding_walks_back_to_the_first_page():
    pages = [Position()]
    for n in range(1, 8):
        pages.append(pages[-1].following({"event_id": {"S": f"k{n}"}}))
    assert [p.number for p in pages] == list(range(1, 9))
    walked = pages[-1]
    for expected in reversed(pages[:-1]):
        earlier = walked.preceding()
        assert earlier is not None and earlier == expected
        walked = earlier
    assert walked.preceding() is None


def test_the_trail_is_capped_and_says_so():
    position = Position()
    for n in range(MAX_TRAIL + 10):
        position = position.following({"event_id": {"S": f"s3-{n:016x}"}})
    assert len(position.trail) == MAX_TRAIL and position.truncated
    token = cursors.encode(position, "scan")
    assert token is not None
    # Small enough for gunicorn's default 4094-byte request line, with room for the rest of the URL.
    assert len(token) < 3500, len(token)
    back = cursors.decode(token, "scan").preceding()
    assert back is not None
    assert back.start_key == {"event_id": {"S": f"s3-{MAX_TRAIL + 8:016x}"}}


keysets = st.builds(Keyset, st.text(min_size=1, max_size=20), st.one_of(st.none(), ids))


@given(keysets, st.lists(keysets, max_size=5), st.integers(min_value=0, max_value=10**9))
def test_a_keyset_position_round_trips_and_never_reads_as_a_key(start, trail, read):
    scope = "range:2024-01-01T00:00:00Z:2024-01-01T00:01:00Z:asc:auto"
    position = Position(start_key=start, trail=tuple(trail), number=len(trail) + 2, read=read)
    back = cursors.decode(cursors.encode(position, scope), scope)
    assert back == position and back.read == read
    assert isinstance(back.start_key, Keyset) and all(isinstance(key, Keyset) for key in back.trail)


def test_the_read_count_adds_up_forwards_and_is_unknown_after_going_back():
    second = Position().following(Keyset("2024-01-01T00:00:00Z", "a"), read_here=40)
    third = second.following(Keyset("2024-01-01T00:00:05Z", None), read_here=25)
    assert (second.read, third.read) == (40, 65)
    back = third.preceding()
    assert back is not None and back.read is None
