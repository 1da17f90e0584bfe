"""Chunking: passages that lose nothing, cut at sensible places and point at the right page."""

from __future__ import annotations

import re

import pytest

from contracts.ingest import Chunk
from services.ingest.chunking import chunk_pages
from services.ingest.parsing import Page


def _tokens(page: int, count: int) -> list[str]:
    """Distinct words that name their page; fixed width, so no cut piece is another token."""
    return [f"p{page:03d}w{n:04d}x" for n in range(count)]


def _sentences(words: list[str], per_sentence: int = 9) -> str:
    groups = [words[i : i + per_sentence] for i in range(0, len(words), per_sentence)]
    return " ".join(" ".join(group) + "." for group in groups)


def _pages_of_tokens(pages: int = 6, words: int = 180) -> list[Page]:
    return [Page(n, _sentences(_tokens(n, words))) for n in range(1, pages + 1)]


def _overlap_length(before: str, after: str) -> int:
    """Length of the longest end of `before` that `after` starts with."""
    for length in range(min(len(before), len(after)), 0, -1):
        if before.endswith(after[:length]):
            return length
    return 0


# ---- nothing lost, nothing broken ----------------------------------------------------------


def test_every_word_of_the_document_is_in_some_chunk():
    pages = _pages_of_tokens()
    chunks = chunk_pages(pages, size=400, overlap=60)
    chunked = {word.rstrip(".") for chunk in chunks for word in chunk.text.split()}
    expected = {word for page in pages for word in _tokens(page.number, 180)}
    assert expected <= chunked


def test_no_chunk_is_longer_than_the_size_and_no_word_is_cut():
    pages = _pages_of_tokens()
    all_words = {word for page in pages for word in _tokens(page.number, 180)}
    chunks = chunk_pages(pages, size=300, overlap=50)
    assert all(len(chunk.text) <= 300 for chunk in chunks)
    for chunk in chunks:
        assert {word.rstrip(".") for word in chunk.text.split()} <= all_words


def test_chunks_are_numbered_from_zero_and_never_empty():
    chunks = chunk_pages(_pages_of_tokens(), size=250, overlap=40)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    assert all(chunk.text.strip() == chunk.text and chunk.text for chunk in chunks)
    assert all(isinstance(chunk, Chunk) for chunk in chunks)


def test_without_overlap_the_chunks_put_back_together_are_the_document():
    pages = _pages_of_tokens(pages=3)
    chunks = chunk_pages(pages, size=333, overlap=0)
    original = " ".join(page.text for page in pages).split()
    assert " ".join(chunk.text for chunk in chunks).split() == original


def test_a_word_longer_than_the_chunk_size_is_the_only_thing_split():
    giant = "x" * 250
    chunks = chunk_pages([Page(1, f"short words {giant} more words")], size=100, overlap=10)
    assert all(len(chunk.text) <= 100 for chunk in chunks)
    pieces = [piece for chunk in chunks for piece in re.findall("x+", chunk.text)]
    assert "".join(pieces) == giant
    assert all(len(piece) < len(giant) for piece in pieces)
    assert chunks[0].text == "short words"
    assert chunks[-1].text.endswith("more words")


def test_empty_pages_and_an_empty_document_give_no_empty_chunks():
    assert chunk_pages([Page(1, ""), Page(2, "  \n ")]) == []
    chunks = chunk_pages([Page(1, ""), Page(2, "Only this page has text."), Page(3, "")])
    assert chunks == [Chunk(index=0, page=2, text="Only this page has text.")]


# ---- where chunks start and end ------------------------------------------------------------


def test_every_word_of_a_chunk_is_printed_on_the_page_it_cites():
    chunks = chunk_pages(_pages_of_tokens(), size=350, overlap=70)
    assert len({chunk.page for chunk in chunks}) > 1
    for chunk in chunks:
        assert {int(word[1:4]) for word in chunk.text.split()} == {chunk.page}, chunk


def test_the_chunk_starting_with_a_page_three_sentence_has_page_three():
    pages = [
        Page(1, "Opening remarks are brief. They set the scene."),
        Page(2, "The second page is short as well."),
        Page(3, "The third page begins with this sentence. " + "More detail follows. " * 20),
    ]
    chunks = chunk_pages(pages, size=120, overlap=0)
    starting = [chunk for chunk in chunks if chunk.text.startswith("The third page begins")]
    assert len(starting) == 1
    assert starting[0].page == 3
    assert chunks[0].page == 1
    assert "The second page" not in chunks[0].text  # a chunk stops at the page break


def test_chunks_prefer_to_end_at_paragraph_breaks():
    paragraphs = [_sentences(_tokens(1, 400)[i : i + 30]) for i in range(0, 400, 30)]
    chunks = chunk_pages([Page(1, "\n\n".join(paragraphs))], size=1000, overlap=100)
    paragraph_ends = tuple(paragraph[-20:] for paragraph in paragraphs)
    assert len(chunks) > 3
    assert all(chunk.text.endswith(paragraph_ends) for chunk in chunks)


def test_without_paragraphs_chunks_end_at_sentence_ends():
    chunks = chunk_pages([Page(1, _sentences(_tokens(1, 500), per_sentence=7))], size=500)
    assert len(chunks) > 3
    assert all(chunk.text.endswith(".") for chunk in chunks)


def test_neighbouring_chunks_repeat_about_the_overlap():
    chunks = chunk_pages(_pages_of_tokens(), size=500, overlap=120)
    assert len(chunks) > 5
    for before, after in zip(chunks, chunks[1:], strict=False):
        if before.page != after.page:
            continue  # no overlap across a page break
        repeated = _overlap_length(before.text, after.text)
        assert 120 - 12 <= repeated <= 120  # words are 11 characters long
        assert not after.text[0].isspace() and after.text.split()[0].startswith("p")


def test_the_same_pages_always_give_the_same_chunks():
    pages = _pages_of_tokens()
    assert chunk_pages(pages, size=321, overlap=45) == chunk_pages(pages, size=321, overlap=45)


# ---- settings and speed --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "overlap", "message"),
    [(0, 0, "size"), (100, -1, "negative"), (100, 100, "smaller"), (100, 150, "smaller")],
)
def test_nonsensical_settings_are_refused_with_a_clear_message(size, overlap, message):
    with pytest.raises(ValueError, match=message):
        chunk_pages([Page(1, "Some text.")], size=size, overlap=overlap)


def test_a_300_page_document_stays_within_the_size_budget():
    sentence = "The board met on Tuesday and discussed the annual report in detail. "
    pages = [Page(n, (sentence * 45)[:3000]) for n in range(1, 301)]
    chunks = chunk_pages(pages)
    assert len(chunks) > 900
    assert all(0 < len(c.text) <= 1000 for c in chunks)
    assert chunks[-1].page == 300
