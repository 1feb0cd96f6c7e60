"""The checklist template: the bundled checklist, and every validation rule of parse_checklist."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sync.checklist import (
    KEY_PATTERN,
    MAX_TITLE_LENGTH,
    Checklist,
    ChecklistItem,
    Level,
    parse_checklist,
)
from sync.checklist_files import bundled_checklist_path, load_checklist
from sync.errors import ChecklistError

REPO = Path(__file__).resolve().parent.parent

# A small valid checklist; tests copy it, break one thing and look at the message.
VALID: dict[str, Any] = {
    "title": "Tiny checklist",
    "version": 2,
    "levels": [
        {"name": "Entry", "icon": "🌱", "categories": ["Data handling", "Networks"]},
        {"name": "Advanced", "categories": ["General"]},
    ],
    "items": [
        {
            "key": "entry.networks.dense",
            "title": "Dense layers",
            "level": "Entry",
            "category": "Networks",
            "order": 1,
        },
        {
            "key": "entry.networks.cnn",
            "title": "Convolutional neural networks",
            "level": "Entry",
            "category": "Networks",
            "order": 2,
        },
        {
            "key": "advanced.general.research",
            "title": "Research",
            "level": "Advanced",
            "category": "General",
            "order": 1,
            "ongoing": True,
        },
        {
            "key": "entry.data_handling.small_images",
            "title": "Small image datasets",
            "level": "Entry",
            "category": "Data handling",
            "order": 1,
            "examples": ["MNIST"],
        },
    ],
    "migrations": [],
}


def document(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data.update(changes)
    return data


def with_item(index: int, **changes: Any) -> dict[str, Any]:
    data = document()
    data["items"][index].update(changes)
    return data


def problems_of(data: dict[str, Any] | str, source: str = "x.yaml") -> list[str]:
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(text, source)
    error = caught.value
    assert error.exit_code == 4
    count = len(error.details)
    assert error.message == f"{source}: {count} problem{'s' * (count != 1)} in the checklist"
    for line in error.details:  # readable lines, never pydantic's own dump
        assert "\n" not in line
        assert "Input should be" not in line and "validation error" not in line
    return error.details


def parse(data: dict[str, Any]) -> Checklist:
    return parse_checklist(yaml.safe_dump(data, allow_unicode=True), "x.yaml")


# ------------------------------------------------------------------------- the bundled checklist


@pytest.fixture(scope="module")
def bundled() -> Checklist:
    return load_checklist()


def test_bundled_checklist_lives_in_the_repo_templates_folder() -> None:
    assert bundled_checklist_path() == REPO / "templates" / "checklist.yaml"


def test_bundled_checklist_is_valid_and_titled(bundled: Checklist) -> None:
    assert bundled.title == "Data Science progress checklist"
    assert bundled.version == 1


def test_bundled_levels_and_categories_follow_the_article(bundled: Checklist) -> None:
    assert [(level.name, level.categories) for level in bundled.levels] == [
        ("Entry", ("Data handling", "Networks", "General")),
        ("Intermediate", ("Data handling", "Custom projects", "Training", "General")),
        ("Advanced", ("General",)),
    ]
    assert all(level.icon for level in bundled.levels)


def test_bundled_checklist_has_every_article_item(bundled: Checklist) -> None:
    assert 35 <= len(bundled.items) <= 40


@pytest.mark.parametrize(
    ("title", "level", "category"),
    [
        ("Convolutional neural networks", "Entry", "Networks"),
        ("Transfer learning", "Intermediate", "Training"),
        ("Multi-GPU training", "Intermediate", "Training"),
        ("Reinforcement learning", "Advanced", "General"),
        ("Custom image project", "Intermediate", "Custom projects"),
        ("Custom pipelines", "Intermediate", "Data handling"),
        ("Callbacks", "Entry", "General"),
    ],
)
def test_bundled_item_sits_where_the_article_puts_it(
    bundled: Checklist, title: str, level: str, category: str
) -> None:
    [item] = [item for item in bundled.items if item.title == title]
    assert (item.level, item.category) == (level, category)


def test_bundled_items_are_complete(bundled: Checklist) -> None:
    for item in bundled.items:
        assert item.description.strip(), item.key
        assert item.project_idea, item.key
        level, category = item.key.split(".")[:2]
        assert level == item.level.lower()
        assert category == item.category.lower().replace(" ", "_")


def test_bundled_orders_count_from_one_inside_each_category(bundled: Checklist) -> None:
    groups: dict[tuple[str, str], list[int]] = {}
    for item in bundled.ordered_items():
        groups.setdefault((item.level, item.category), []).append(item.order)
    assert all(orders == list(range(1, len(orders) + 1)) for orders in groups.values())
    assert len(groups) == 8


def test_only_research_contributing_and_staying_up_to_date_are_ongoing(
    bundled: Checklist,
) -> None:
    assert [item.key for item in bundled.ordered_items() if item.ongoing] == [
        "advanced.general.research",
        "advanced.general.contributing",
        "advanced.general.staying_up_to_date",
    ]


def test_bundled_examples_name_the_articles_datasets_and_tools(bundled: Checklist) -> None:
    examples = {example for item in bundled.items for example in item.examples}
    assert {"MNIST", "IMDB reviews", "ImageNet", "The Pile", "The Batch"} <= examples
    assert bundled.item("entry.data_handling.small_image_datasets") is not None
    assert "MNIST" in bundled.item("entry.data_handling.small_image_datasets").examples  # type: ignore[union-attr]


def test_bundled_ordered_items_run_from_entry_basics_to_staying_up_to_date(
    bundled: Checklist,
) -> None:
    ordered = bundled.ordered_items()
    assert ordered[0].title == "Small image datasets"
    assert ordered[-1].title == "Staying up to date"
    titles = [item.title for item in ordered]
    assert titles.index("Transfer learning") < titles.index("Fine-tuning")
    assert titles.index("Fine-tuning") < titles.index("TPU training")
    assert [item.level for item in ordered] == sorted(
        (item.level for item in ordered), key=bundled.level_names().index
    )


# ------------------------------------------------------------------------- the model's API


def test_ordered_items_sort_by_level_then_category_then_order() -> None:
    checklist = parse(VALID)
    assert [item.key for item in checklist.ordered_items()] == [
        "entry.data_handling.small_images",
        "entry.networks.dense",
        "entry.networks.cnn",
        "advanced.general.research",
    ]
    cnn = checklist.item("entry.networks.cnn")
    assert cnn is not None
    assert checklist.position(cnn) == (0, 1, 2)


def test_an_item_from_elsewhere_sorts_after_the_checklist() -> None:
    checklist = parse(VALID)
    stranger = ChecklistItem(
        key="custom.my_project", title="Mine", level="Mine", category="Own", order=1
    )
    assert checklist.position(stranger) > max(map(checklist.position, checklist.items))


def test_level_and_category_names_are_unique_and_in_order() -> None:
    checklist = parse(VALID)
    assert checklist.level_names() == ["Entry", "Advanced"]
    assert checklist.category_names() == ["Data handling", "Networks", "General"]


def test_models_are_frozen() -> None:
    item = parse(VALID).items[0]
    with pytest.raises(ValidationError):
        item.title = "changed"  # type: ignore[misc]


def test_a_checklist_built_in_code_is_checked_too() -> None:
    level = Level(name="Entry", categories=("General",))
    item = ChecklistItem(key="entry.general.a", title="A", level="Entry", category="Other", order=1)
    with pytest.raises(ValidationError, match="unknown category"):
        Checklist(title="T", version=1, levels=(level,), items=(item,))


def test_key_pattern_accepts_dotted_lowercase_keys_only() -> None:
    assert KEY_PATTERN.match("intermediate.training.multi_gpu")
    assert KEY_PATTERN.match("entry.networks.cnn-2")
    for bad in ("entry", "Entry.networks.cnn", "entry..cnn", "entry.networks.", "entry networks"):
        assert not KEY_PATTERN.match(bad), bad


# ------------------------------------------------------------------------- validation rules


def test_duplicate_key_names_both_items() -> None:
    data = with_item(1, key="entry.networks.dense")
    assert problems_of(data) == [
        'items[1] (entry.networks.dense): duplicate key "entry.networks.dense" (also items[0])'
    ]


def test_unknown_level_lists_the_known_levels() -> None:
    [problem] = problems_of(with_item(2, level="Expert"))
    assert problem == (
        'items[2] (advanced.general.research): unknown level "Expert"; '
        "the levels are Entry, Advanced"
    )


def test_unknown_category_is_checked_against_the_items_own_level() -> None:
    [problem] = problems_of(with_item(2, category="Networks"))  # Networks is an Entry category
    assert problem.startswith(
        'items[2] (advanced.general.research): unknown category "Networks" for level Advanced'
    )


def test_yaml_syntax_error_reports_the_line() -> None:
    text = "title: T\nversion: 1\nlevels:\n  - name: Entry\n   categories: [A]\n"
    [problem] = problems_of(text)  # the badly indented `categories:`
    assert problem.startswith("line 5: YAML syntax error: ")
    assert problem.endswith("(column 4)")


def test_a_field_given_twice_is_reported_not_silently_overwritten() -> None:
    text = "title: T\nversion: 1\ntitle: U\n"
    [problem] = problems_of(text)
    assert problem.startswith('line 3: YAML error: "title" appears twice (first on line 1)')


def test_top_level_must_be_a_mapping() -> None:
    assert problems_of("- just\n- a list\n") == ["the top level must be a mapping, got a list"]
    assert problems_of("") == ["the file is empty; expected title, version, levels and items"]


def test_missing_checklist_title() -> None:
    data = document()
    del data["title"]
    assert problems_of(data) == ["title is required but missing"]


def test_missing_and_empty_item_titles() -> None:
    data = document()
    del data["items"][0]["title"]
    data["items"][1]["title"] = "   "
    assert problems_of(data) == [
        "items[0] (entry.networks.dense): title is required but missing",
        "items[1] (entry.networks.cnn): title must not be empty",
    ]


def test_title_length_limit() -> None:
    parse(with_item(0, title="x" * MAX_TITLE_LENGTH))
    [problem] = problems_of(with_item(0, title="x" * (MAX_TITLE_LENGTH + 1)))
    assert problem == (
        "items[0] (entry.networks.dense): title is 2,001 characters long; the limit is 2,000"
    )


@pytest.mark.parametrize("key", ["Entry.networks.dense", "dense", "entry networks dense", "e.n."])
def test_bad_key_format(key: str) -> None:
    [problem] = problems_of(with_item(0, key=key))
    assert problem.startswith(f'items[0] ({key}): key "{key}" is not a valid key')


def test_custom_prefix_is_reserved_for_the_learners_own_items() -> None:
    [problem] = problems_of(with_item(0, key="custom.dense"))
    assert problem.startswith(
        'items[0] (custom.dense): key "custom.dense" uses the "custom." prefix'
    )


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("abc", 'order must be a whole number, got "abc"'),
        ("2", 'order must be a whole number, got "2"'),
        (True, "order must be a whole number, got true"),
        (0, "order must be 1 or more, got 0"),
    ],
)
def test_bad_order(order: object, expected: str) -> None:
    assert problems_of(with_item(0, order=order)) == [
        f"items[0] (entry.networks.dense): {expected}"
    ]


def test_duplicate_order_inside_a_category() -> None:
    [problem] = problems_of(with_item(1, order=1))
    assert problem == (
        "items[1] (entry.networks.cnn): order 1 is already used in Entry / Networks "
        "by items[0] (entry.networks.dense)"
    )


def test_the_same_order_in_different_categories_is_fine() -> None:
    parse(VALID)  # entry.networks.dense and entry.data_handling.small_images are both order 1


def test_wrong_types_and_unknown_fields_read_like_the_yaml() -> None:
    data = with_item(3, examples="MNIST", ongoing="yes", descripton="typo")
    assert problems_of(data) == [
        'items[3] (entry.data_handling.small_images): examples must be a list, got "MNIST"',
        'items[3] (entry.data_handling.small_images): ongoing must be true or false, got "yes"',
        'items[3] (entry.data_handling.small_images): unknown field "descripton"',
    ]


def test_an_item_that_is_not_a_mapping_is_named_by_index() -> None:
    data = document()
    data["items"].append("Transformers")
    assert problems_of(data) == ['items[4]: must be a mapping, got "Transformers"']


def test_level_problems() -> None:
    data = document()
    data["levels"].append({"name": "Entry", "categories": ["General"]})
    data["levels"].append({"name": "Expert", "categories": []})
    data["levels"].append({"name": "Guru", "categories": ["A", "A"]})
    assert problems_of(data) == [
        "levels[3] (Expert): categories must list at least one category",
        'levels[4] (Guru): categories lists "A" more than once',
        'levels[2] (Entry): duplicate level name "Entry"',
    ]


def test_every_problem_is_reported_at_once() -> None:
    data = document(version="one")
    data["items"][0]["order"] = "abc"
    data["items"][1]["key"] = "entry.networks.dense"
    data["items"][2]["level"] = "Expert"
    data["items"][3]["key"] = "custom.mine"
    assert len(problems_of(data)) == 5


def test_the_message_names_the_source_file() -> None:
    with pytest.raises(ChecklistError, match=r"^templates/x\.yaml: 1 problem in the checklist$"):
        parse_checklist(yaml.safe_dump(with_item(0, order=0)), "templates/x.yaml")


# ------------------------------------------------------------------------- migrations


def with_migrations(*migrations: dict[str, Any], version: int = 3) -> dict[str, Any]:
    return document(version=version, migrations=list(migrations))


def test_a_rename_resolves_to_the_current_key() -> None:
    checklist = parse(
        with_migrations({"version": 2, "keys": {"entry.networks.convnet": "entry.networks.cnn"}})
    )
    assert checklist.resolve_key("entry.networks.convnet") == "entry.networks.cnn"
    assert checklist.resolve_key("entry.networks.cnn") == "entry.networks.cnn"
    assert checklist.resolve_key("entry.networks.unknown") is None


def test_chained_migrations_resolve_to_the_final_key() -> None:
    checklist = parse(
        with_migrations(
            {"version": 3, "keys": {"entry.networks.conv": "entry.networks.cnn"}},
            {"version": 2, "keys": {"entry.networks.convolutions": "entry.networks.conv"}},
        )
    )
    assert checklist.resolve_key("entry.networks.convolutions") == "entry.networks.cnn"
    assert checklist.migration_map() == {
        "entry.networks.convolutions": "entry.networks.cnn",
        "entry.networks.conv": "entry.networks.cnn",
    }


def test_several_old_keys_may_merge_into_one() -> None:
    checklist = parse(
        with_migrations(
            {
                "version": 2,
                "keys": {"entry.a.one": "entry.networks.cnn", "entry.a.two": "entry.networks.cnn"},
            }
        )
    )
    assert set(checklist.migration_map().values()) == {"entry.networks.cnn"}


def test_migration_cycle() -> None:
    [problem] = problems_of(
        with_migrations(
            {"version": 2, "keys": {"entry.a.one": "entry.a.two", "entry.a.two": "entry.a.one"}}
        )
    )
    assert (
        problem
        == "migrations[0]: the renames form a cycle: entry.a.one -> entry.a.two -> entry.a.one"
    )


def test_a_cycle_behind_a_rename_is_reported_once() -> None:
    problems = problems_of(
        with_migrations(
            {"version": 2, "keys": {"entry.a.one": "entry.a.two", "entry.a.two": "entry.a.three"}},
            {"version": 3, "keys": {"entry.a.three": "entry.a.two"}},
        )
    )
    assert problems == [
        "migrations[0]: the renames form a cycle: entry.a.two -> entry.a.three -> entry.a.two"
    ]


def test_migration_target_must_exist() -> None:
    [problem] = problems_of(
        with_migrations({"version": 2, "keys": {"entry.a.one": "entry.a.gone"}})
    )
    assert (
        problem
        == 'migrations[0]: "entry.a.one" is renamed to "entry.a.gone", which is not an item key'
    )


def test_migration_target_must_exist_at_the_end_of_a_chain() -> None:
    [problem] = problems_of(
        with_migrations(
            {"version": 2, "keys": {"entry.a.one": "entry.a.two"}},
            {"version": 3, "keys": {"entry.a.two": "entry.a.gone"}},
        )
    )
    assert problem == (  # the broken link is reported, not every key that leads to it
        'migrations[1]: "entry.a.two" is renamed to "entry.a.gone", which is not an item key'
    )


def test_old_key_must_not_still_be_an_item() -> None:
    [problem] = problems_of(
        with_migrations({"version": 2, "keys": {"entry.networks.dense": "entry.networks.cnn"}})
    )
    assert problem.startswith(
        'migrations[0]: "entry.networks.dense" is renamed but is still an item key'
    )


def test_migration_version_must_not_exceed_the_checklist_version() -> None:
    [problem] = problems_of(
        with_migrations({"version": 4, "keys": {"entry.a.one": "entry.networks.cnn"}}, version=3)
    )
    assert problem == "migrations[0]: version 4 is newer than the checklist's version 3"


def test_an_old_key_cannot_be_renamed_two_ways() -> None:
    [problem] = problems_of(
        with_migrations(
            {"version": 2, "keys": {"entry.a.one": "entry.networks.cnn"}},
            {"version": 3, "keys": {"entry.a.one": "entry.networks.dense"}},
        )
    )
    assert problem.startswith('migrations[1]: "entry.a.one" is renamed to "entry.networks.dense"')


def test_migration_keys_must_be_valid_keys() -> None:
    [problem] = problems_of(
        with_migrations({"version": 2, "keys": {"Old Key": "entry.networks.cnn"}})
    )
    assert problem.startswith('migrations[0]: keys contains "Old Key", not a valid key')


# ------------------------------------------------------------------------- files


def test_load_checklist_reads_a_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(VALID, allow_unicode=True), encoding="utf-8")
    assert load_checklist(path).title == "Tiny checklist"


def test_load_checklist_names_the_file_in_problems(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(with_item(0, order=0)), encoding="utf-8")
    with pytest.raises(ChecklistError, match=f"^{path}: 1 problem in the checklist$"):
        load_checklist(path)


def test_an_unreadable_file_names_the_path_and_the_reason(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(ChecklistError) as caught:
        load_checklist(missing)
    assert caught.value.message == f"cannot read the checklist {missing}: No such file or directory"
    assert caught.value.exit_code == 4
    with pytest.raises(ChecklistError, match="Is a directory"):
        load_checklist(tmp_path)


def test_level_and_category_names_must_be_valid_notion_select_options() -> None:
    text = """
title: T
version: 1
levels:
  - name: "Entry, basic"
    categories: ["Nets, deep", General]
items:
  - {key: a.b, title: X, level: "Entry, basic", category: General, order: 1, description: d}
"""
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(text, "t.yaml")
    details = "\n".join(caught.value.details)
    assert "Entry, basic" in details and "comma" in details
    assert "Nets, deep" in details


@pytest.mark.parametrize(
    "text",
    [
        "title: T\nitems: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "title: T\nitems: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n",
        "title: T\nitems:\n" + "".join("  " * n + "- \n" for n in range(1, 60)),
    ],
    ids=["100,000 deep flow lists", "5,000 deep flow mappings", "59 deep block lists"],
)
def test_a_checklist_nested_absurdly_deep_is_a_checklist_error_not_a_crash(text: str) -> None:
    [problem] = problems_of(text)
    assert "nest" in problem


def test_a_description_longer_than_notion_keeps_is_refused_not_cut_and_resent() -> None:
    data = document()
    data["items"][0]["description"] = "x" * 200_001
    [problem] = problems_of(data)
    assert "description" in problem and "200,001 characters long; the limit is 200,000" in problem
    data["items"][0]["description"] = "x" * 200_000
    assert parse_checklist(yaml.safe_dump(data), "x.yaml")
