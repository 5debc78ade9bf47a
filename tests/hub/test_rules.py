import pytest

from hub.rules import default_rules, load_rules


def test_defaults_match_the_issue():
    rules = default_rules()
    assert rules.roles == {"attend": 1, "pitch": 3, "cake": 2, "tidy": 2, "organise": 5}
    assert rules.attend_clubs == (25, 50, 100, 250)
    assert rules.junior_clubs == (10,)
    assert rules.volunteer_clubs == (10, 25, 50, 100)


def test_a_rules_file_can_add_roles_and_keeps_other_defaults(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[roles]\nattend = 1\nstream = 4\n[hours]\nstream = 3\n')
    rules = load_rules(path)
    assert rules.roles == {"attend": 1, "stream": 4}
    assert rules.hours["stream"] == 3 and rules.volunteer_clubs == (10, 25, 50, 100)


@pytest.mark.parametrize("text", ['[roles]\ncake = 2\n', '[roles]\nattend = 1\n"Bad Role" = 2\n',
                                  '[roles]\nattend = -1\n'])
def test_bad_rules_are_refused_with_a_reason(tmp_path, text):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(ValueError):
        load_rules(path)
