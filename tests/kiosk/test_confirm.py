"""No phantom reads: a code counts after 2 decoded frames (or a valid badge at once), once per visit."""

from kiosk.scanner.confirm import ReadConfirmation


def feed(confirm, *frames):
    return [confirm.frame(texts) for texts in frames]


def test_a_valid_badge_counts_in_its_first_frame():
    assert feed(ReadConfirmation(), ["T5724"]) == [["T5724"]]


def test_a_badge_with_a_wrong_check_digit_needs_two_frames_in_a_row():
    assert feed(ReadConfirmation(), ["T5725"], ["T5725"]) == [[], ["T5725"]]


def test_a_card_read_in_one_frame_only_never_counts():
    confirm = ReadConfirmation()
    assert feed(confirm, ["TURNOUT:ROLE:cake"], [], ["TURNOUT:ROLE:cake"], []) == [[], [], [], []]


def test_a_card_read_in_two_consecutive_frames_counts_once():
    confirm = ReadConfirmation()
    assert feed(confirm, ["TURNOUT:UNDO"], ["TURNOUT:UNDO"], ["TURNOUT:UNDO"]) == [
        [], ["TURNOUT:UNDO"], []]


def test_a_badge_held_in_view_counts_once():
    confirm = ReadConfirmation(leave_after=3)
    assert sum(feed(confirm, *[["T5724"]] * 20), []) == ["T5724"]


def test_a_badge_counts_again_only_after_leaving_the_view_for_n_frames():
    confirm = ReadConfirmation(leave_after=3)
    results = feed(confirm, ["T5724"], [], [], ["T5724"], [], [], [], ["T5724"])
    assert results == [["T5724"], [], [], [], [], [], [], ["T5724"]]


def test_a_missed_frame_while_held_up_does_not_count_it_again():
    confirm = ReadConfirmation(leave_after=3)
    assert feed(confirm, ["T5724"], [], ["T5724"], [], ["T5724"]) == [["T5724"], [], [], [], []]


def test_unchanged_frames_count_as_absence_but_never_confirm():
    confirm = ReadConfirmation(leave_after=3)
    confirm.frame(["T5724"])
    confirm.frame([])
    confirm.unchanged()
    confirm.unchanged()
    assert confirm.in_view() == set()
    assert confirm.frame(["T5724"]) == ["T5724"]
    card = ReadConfirmation()
    card.frame(["TURNOUT:UNDO"])
    assert card.pending()
    card.unchanged()
    assert card.in_view() == set()


def test_two_badges_in_one_frame_both_count():
    assert ReadConfirmation().frame(["T5724", "T10019", "T5724"]) == ["T5724", "T10019"]
