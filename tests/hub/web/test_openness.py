"""Openness stars from organisers' ticks: each star builds on the one before."""

from hub.openness import MAX_STARS, STEPS, TICKS, openness, stars, unknown_ticks


def test_stars_count_the_unbroken_run_from_the_first_step():
    assert stars([]) == 0
    assert stars(["agenda"]) == 1
    assert stars(["agenda", "hashtag", "live"]) == 3
    assert stars(TICKS) == MAX_STARS == 5
    assert stars(["hashtag", "live", "remote", "ongoing"]) == 0  # nothing published first
    assert stars(["agenda", "hashtag", "remote"]) == 2


def test_openness_lists_every_step_with_its_meaning():
    result = openness(["agenda", "live"])
    assert result.stars == 1 and result.label == "1 out of 5 stars"
    assert [(s.tick, done) for s, done in result.steps] == [
        ("agenda", True), ("hashtag", False), ("live", True), ("remote", False), ("ongoing", False)]
    assert result.ticked == ("agenda", "live")
    assert all(step.meaning.endswith(".") for step in STEPS)


def test_unknown_ticks_are_reported():
    assert unknown_ticks(["agenda", "balloons"]) == {"balloons"}
