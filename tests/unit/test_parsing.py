"""Page-by-page text extraction: the text a person's document turns into, and the refusals."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pytest

from services.ingest.parsing import Page, ParseError, parse_document
from tests.support.pdfs import (
    make_corrupt_pdf,
    make_encrypted_pdf,
    make_image_only_pdf,
    make_owner_protected_pdf,
    make_pdf,
    make_two_column_pdf,
)

PDF = "application/pdf"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _filler(page: int) -> str:
    return f"Filler text for page {page} talks about nothing in particular at some length."


# ---- PDF: where the text ends up ---------------------------------------------------------


def test_each_sentence_comes_out_on_its_physical_page():
    texts = [_filler(n) for n in range(1, 11)]
    texts[6] = "The quarterly revenue grew by twelve percent in the northern region."
    pages = parse_document(make_pdf(texts), PDF, max_pages=50)

    assert [page.number for page in pages] == list(range(1, 11))
    assert "grew by twelve percent" in pages[6].text
    assert pages[6].number == 7
    assert all("twelve percent" not in page.text for page in pages if page.number != 7)
    assert "page 3 talks about nothing" in pages[2].text


def test_a_long_paragraph_wrapped_over_several_lines_is_read_in_full_and_in_order():
    paragraph = " ".join(f"Sentence number {n} keeps the story going." for n in range(1, 25))
    pages = parse_document(make_pdf([paragraph]), PDF, max_pages=5)
    assert _flat(pages[0].text) == paragraph


def test_paragraph_breaks_are_kept_and_lines_inside_a_paragraph_stay_together():
    first = "The first paragraph explains the background of the project in detail. " * 3
    second = "The second paragraph describes what happened next and why it mattered. " * 3
    pages = parse_document(make_pdf([f"{first.strip()}\n\n{second.strip()}"]), PDF, max_pages=5)
    paragraphs = pages[0].text.split("\n\n")
    assert [_flat(p) for p in paragraphs] == [first.strip(), second.strip()]


def test_a_word_hyphenated_across_a_line_end_is_joined():
    pages = parse_document(
        make_pdf(["This sentence ends its first line with an exam-\nple of hyphenation."]),
        PDF,
        max_pages=5,
    )
    assert "an example of hyphenation" in _flat(pages[0].text)
    assert "exam-" not in pages[0].text


def test_runs_of_spaces_are_collapsed():
    pages = parse_document(make_pdf(["Too     many      spaces   here."]), PDF, max_pages=5)
    assert "Too many spaces here." in pages[0].text


def test_a_two_column_page_is_read_left_column_first():
    left = "Left column begins here. " + "Apples grow on trees in the orchard. " * 8
    left += "Left column ends."
    right = "Right column begins here. " + "Boats sail across the quiet harbour. " * 8
    right += "Right column ends."
    data = make_two_column_pdf(left, right)

    # The columns are drawn row by row, so plain drawing order interleaves them.
    with pdfium.PdfDocument(data) as document:
        page = document[0]
        textpage = page.get_textpage()
        drawing_order = textpage.get_text_bounded()
        textpage.close()
        page.close()
    assert drawing_order.index("Right column begins") < drawing_order.index("Left column ends")

    text = _flat(parse_document(data, PDF, max_pages=5)[0].text)
    assert text == f"{_flat(left)} {_flat(right)}"


def test_a_page_without_text_is_kept_with_empty_text():
    data = make_pdf(["First page has words on it.", "", "Third page has words too."])
    pages = parse_document(data, PDF, max_pages=5)
    assert pages == [
        Page(1, "First page has words on it."),
        Page(2, ""),
        Page(3, "Third page has words too."),
    ]


def test_a_pdf_with_only_an_owner_password_opens_normally():
    pages = parse_document(
        make_owner_protected_pdf("Editing is restricted but reading is allowed."), PDF, max_pages=5
    )
    assert pages[0].text == "Editing is restricted but reading is allowed."


# ---- PDF: refusals -----------------------------------------------------------------------


def test_a_password_protected_pdf_is_refused_as_encrypted():
    with pytest.raises(ParseError) as caught:
        parse_document(make_encrypted_pdf("Top secret plans."), PDF, max_pages=5)
    assert caught.value.code == "encrypted"
    assert "password" in caught.value.reason
    assert str(caught.value) == caught.value.reason


@pytest.mark.parametrize(
    "data",
    [make_corrupt_pdf(), b"%PDF-1.7\n" + bytes(range(256)) * 8, make_pdf(["Cut short."])[:300]],
    ids=["truncated-and-scrambled", "header-then-garbage", "truncated"],
)
def test_a_damaged_pdf_is_refused_as_corrupt(data):
    with pytest.raises(ParseError) as caught:
        parse_document(data, PDF, max_pages=5)
    assert caught.value.code == "corrupt"
    assert "damaged" in caught.value.reason


def test_a_scanned_pdf_without_a_text_layer_is_refused_with_an_ocr_hint():
    with pytest.raises(ParseError) as caught:
        parse_document(make_image_only_pdf(pages=2), PDF, max_pages=5)
    assert caught.value.code == "no_text"
    assert "scanned" in caught.value.reason
    assert "OCR" in caught.value.reason


def test_a_few_stray_characters_do_not_count_as_text():
    with pytest.raises(ParseError) as caught:
        parse_document(make_pdf(["1", "- 2 -", "iii"]), PDF, max_pages=5)
    assert caught.value.code == "no_text"


def test_a_pdf_over_the_page_limit_is_refused_naming_both_numbers():
    data = make_pdf([_filler(n) for n in range(1, 8)])
    with pytest.raises(ParseError) as caught:
        parse_document(data, PDF, max_pages=5)
    assert caught.value.code == "too_many_pages"
    assert re.search(r"\b7 pages\b", caught.value.reason)
    assert re.search(r"\b5 pages\b", caught.value.reason)


def test_a_300_page_pdf_keeps_every_page_in_order():
    body = "The committee reviewed the budget and approved the new plan. " * 45
    data = make_pdf([f"Page {n}. {body}" for n in range(1, 301)])
    pages = parse_document(data, PDF, max_pages=500)
    assert len(pages) == 300
    assert [p.number for p in pages] == list(range(1, 301))
    assert pages[299].text.startswith("Page 300.")


# ---- plain text and Markdown -------------------------------------------------------------


def test_text_is_one_page_without_form_feeds():
    pages = parse_document(b"Line one.\r\nLine two.\r\n", "text/plain", max_pages=5)
    assert pages == [Page(1, "Line one.\nLine two.")]


def test_form_feeds_split_text_into_numbered_pages():
    data = b"Chapter one.\fChapter two.\f\fChapter four.\f"
    pages = parse_document(data, "text/plain", max_pages=10)
    assert pages == [
        Page(1, "Chapter one."),
        Page(2, "Chapter two."),
        Page(3, ""),
        Page(4, "Chapter four."),
    ]


def test_byte_order_mark_is_dropped_and_invalid_bytes_are_replaced():
    pages = parse_document(b"\xef\xbb\xbfCaf\xc3\xa9 and \xff bad byte", "text/plain", max_pages=5)
    assert pages[0].text == "Caf\u00e9 and \ufffd bad byte"


def test_markdown_keeps_its_indentation():
    source = b"# Title\n\n- item\n    - nested item\n\n    code block\n"
    pages = parse_document(source, "text/markdown", max_pages=5)
    assert pages[0].text == "# Title\n\n- item\n    - nested item\n\n    code block"


@pytest.mark.parametrize("data", [b"", b"  \n\n \f \n"])
def test_text_without_any_words_is_refused(data):
    with pytest.raises(ParseError) as caught:
        parse_document(data, "text/plain", max_pages=5)
    assert caught.value.code == "no_text"
    assert caught.value.reason


def test_text_with_too_many_form_feed_pages_is_refused():
    with pytest.raises(ParseError) as caught:
        parse_document(b"a\fb\fc\fd", "text/plain", max_pages=3)
    assert caught.value.code == "too_many_pages"
    assert "4 pages" in caught.value.reason
