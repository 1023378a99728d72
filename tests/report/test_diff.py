"""A child's prompt against its parent's, word by word: what was removed and added, escaped for the page."""

import pytest

from behavopt.report.diff import changed_share, word_diff


@pytest.mark.parametrize("before, after, html", [
    ("Count the items.", "Count the items.", "Count the items."),
    ("Count the items.", "Count the fruits.", "Count the <del>items.</del><ins>fruits.</ins>"),
    ("Step 4: Compare.", "Step 5: Compare.", "Step <del>4:</del><ins>5:</ins> Compare."),
    ("Answer.", "Answer. Check twice.", "Answer.<ins> Check twice.</ins>"),
    ("Be brief.", "", "<del>Be brief.</del>"),
])
def test_removed_and_added_words_are_marked(before, after, html):
    assert str(word_diff(before, after)) == html


def test_prompt_text_cannot_add_markup_to_the_page():
    html = str(word_diff("Count <b>items</b>.", "Count <script>alert(1)</script> & items."))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html and "<b>" not in html


@pytest.mark.parametrize("before, after, share", [("a b c d", "a b c d", 0.0), ("a b c d", "w x y z", 1.0),
                                                  ("a b c d", "a b c e", 0.25)])
def test_changed_share_counts_words(before, after, share):
    assert changed_share(before, after) == share
