"""The checklist template: models, parsing with validation, and loading.

PURE: `parse_checklist` turns YAML text into a frozen `Checklist`, or raises one `ChecklistError`
that lists every problem in the file, one line each. Reading the file (the bundled
`templates/checklist.yaml` by default) lives in `checklist_files.py`.

Keys are identities: `level.category.slug`, lowercase. The `custom.` prefix is reserved for the
learner's own items, which never come from the template.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    field_validator,
    model_validator,
)

from sync.checklist_migrations import build_migration_map
from sync.checklist_problems import (
    MAX_NESTING,
    TOO_DEEP,
    StrictLoader,
    describe_yaml_error,
    item_label,
    nesting_depth,
    show_value,
    structure_problems,
    validate_into,
)
from sync.errors import ChecklistError

KEY_PATTERN = re.compile(r"^[a-z0-9]+(\.[a-z0-9][a-z0-9_-]*)+$")
RESERVED_KEY_PREFIX = "custom."
MAX_TITLE_LENGTH = 2000  # Notion's limit for one rich-text run
MAX_OPTION_LENGTH = 100  # Notion's limit for a select option's name
# Notion keeps at most 100 rich-text runs of 2,000 characters in a property: a longer description
# would be cut, and every sync would find it changed and send it again.
MAX_DESCRIPTION_LENGTH = 100 * 2000

_KEY_HINT = "use lowercase dot-separated parts of a-z, 0-9, _ and -, like entry.networks.cnn"
_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _check_text(value: str, *, limit: int | None = None) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if limit is not None and len(value) > limit:
        raise ValueError(f"is {len(value):,} characters long; the limit is {limit:,}")
    return value


def _check_key(value: str) -> str:
    if not KEY_PATTERN.match(value):
        raise ValueError(f'"{value}" is not a valid key; {_KEY_HINT}')
    return value


def _check_positive(value: int) -> int:
    if value < 1:
        raise ValueError(f"must be 1 or more, got {value}")
    return value


def _check_title(value: str) -> str:
    return _check_text(value, limit=MAX_TITLE_LENGTH)


def _check_description(value: str) -> str:
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise ValueError(
            f"is {len(value):,} characters long; the limit is {MAX_DESCRIPTION_LENGTH:,}"
        )
    return value


# Field types with their checks. Numbers and flags are strict: YAML gives real ints and booleans,
# so "3", 3.5 or `true` in an int field is a mistake worth reporting.
_Key = Annotated[str, AfterValidator(_check_key)]
_Name = Annotated[str, AfterValidator(_check_text)]
_Title = Annotated[str, AfterValidator(_check_title)]
_Description = Annotated[str, AfterValidator(_check_description)]
_Positive = Annotated[int, Strict(), AfterValidator(_check_positive)]
_Bool = Annotated[bool, Strict()]
_NonEmpty = Field(min_length=1)


class ChecklistItem(BaseModel):
    """One thing to learn; the checklist owns all of these fields."""

    model_config = _FROZEN

    key: _Key
    title: _Title
    level: _Name
    category: _Name
    order: _Positive
    description: _Description = ""
    examples: tuple[str, ...] = ()
    project_idea: str | None = None
    ongoing: _Bool = False


def _check_option_name(value: str) -> str:
    """Levels and categories become Notion select options: no commas, at most 100 characters."""
    if "," in value:
        raise ValueError(f'"{value}" contains a comma, which Notion refuses in a select option')
    if len(value) > MAX_OPTION_LENGTH:
        raise ValueError(f"is {len(value)} characters long; the limit is {MAX_OPTION_LENGTH}")
    return value


class Level(BaseModel):
    """A level (Entry, Intermediate, Advanced) and its categories, in display order."""

    model_config = _FROZEN

    name: Annotated[_Name, AfterValidator(_check_option_name)]
    icon: str | None = None
    categories: tuple[str, ...]

    @field_validator("categories")
    @classmethod
    def _check_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must list at least one category")
        if any(not name.strip() for name in value):
            raise ValueError("must not contain an empty name")
        for name in value:
            _check_option_name(name)
        duplicates = sorted({name for name in value if value.count(name) > 1})
        if duplicates:
            shown = ", ".join(f'"{name}"' for name in duplicates)
            raise ValueError(f"lists {shown} more than once")
        return value


class Migration(BaseModel):
    """In checklist `version`, the keys on the left were renamed (or merged) into the right."""

    model_config = _FROZEN

    version: _Positive
    keys: dict[str, str]

    @field_validator("keys")
    @classmethod
    def _check_keys(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [key for pair in value.items() for key in pair if not KEY_PATTERN.match(key)]
        if bad:
            shown = ", ".join(f'"{key}"' for key in dict.fromkeys(bad))
            raise ValueError(f"contains {shown}, not a valid key; {_KEY_HINT}")
        return value


class Checklist(BaseModel):
    """The whole checklist: levels with their categories, items, and key migrations."""

    model_config = _FROZEN

    title: _Name
    version: _Positive
    levels: Annotated[tuple[Level, ...], _NonEmpty]
    items: Annotated[tuple[ChecklistItem, ...], _NonEmpty]
    migrations: tuple[Migration, ...] = ()

    _by_key: dict[str, ChecklistItem] = PrivateAttr(default_factory=dict)
    _level_index: dict[str, int] = PrivateAttr(default_factory=dict)
    _category_index: dict[tuple[str, str], int] = PrivateAttr(default_factory=dict)
    _migration_map: dict[str, str] = PrivateAttr(default_factory=dict)
    _ordered: tuple[ChecklistItem, ...] = PrivateAttr(default=())

    def model_post_init(self, context: Any, /) -> None:
        self._by_key = {item.key: item for item in self.items}
        for level_index, level in enumerate(self.levels):
            self._level_index.setdefault(level.name, level_index)
            for category_index, category in enumerate(level.categories):
                self._category_index.setdefault((level.name, category), category_index)
        self._migration_map = build_migration_map(self.migrations)
        self._ordered = tuple(sorted(self.items, key=self.position))  # sorted once, read often

    @model_validator(mode="after")
    def _check_structure(self) -> Checklist:
        problems = structure_problems(
            list(enumerate(self.levels)),
            list(enumerate(self.items)),
            list(enumerate(self.migrations)),
            self.version,
            keys=[(index, item.key) for index, item in enumerate(self.items)],
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def item(self, key: str) -> ChecklistItem | None:
        """The item with this current key, or None."""
        return self._by_key.get(key)

    def position(self, item: ChecklistItem) -> tuple[int, int, int]:
        """Sort key in checklist order: (level index, category index in the level, order).

        An item whose level or category is not in this checklist sorts after the known ones.
        """
        level_index = self._level_index.get(item.level, len(self.levels))
        category_index = self._category_index.get((item.level, item.category), 1_000_000)
        return level_index, category_index, item.order

    def ordered_items(self) -> list[ChecklistItem]:
        """Items by level, then category within the level, then `order`."""
        return list(self._ordered)

    def level_names(self) -> list[str]:
        return list(dict.fromkeys(level.name for level in self.levels))

    def category_names(self) -> list[str]:
        """Every category name once, in order of first appearance."""
        return list(dict.fromkeys(name for level in self.levels for name in level.categories))

    def migration_map(self) -> dict[str, str]:
        """Every old key -> the current key it was finally renamed (or merged) into."""
        return dict(self._migration_map)

    def resolve_key(self, key: str) -> str | None:
        """The current key for `key`: itself if current, its migration target, else None."""
        if key in self._by_key:
            return key
        target = self._migration_map.get(key)
        return target if target is not None and target in self._by_key else None


# ---------------------------------------------------------------------------------- validation


class _Header(BaseModel):
    """The top level of the file; the lists are validated element by element afterwards."""

    model_config = ConfigDict(extra="forbid")

    title: _Name
    version: _Positive
    levels: Annotated[list[Any], _NonEmpty]
    items: Annotated[list[Any], _NonEmpty]
    migrations: list[Any] | None = None


def _fail(source: str, problems: list[str]) -> ChecklistError:
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    return ChecklistError(f"{source}: {count} {noun} in the checklist", details=problems)


def _list_at(data: dict[Any, Any], field: str) -> list[Any]:
    value = data.get(field)
    return value if isinstance(value, list) else []  # a non-list is reported by _Header


def parse_checklist(text: str, source: str) -> Checklist:
    """Parse and validate checklist YAML; `source` names the file in messages.

    Raises `ChecklistError` whose details list every problem found, one line each.
    """
    data = _load_mapping(text, source)
    problems: list[str] = []
    header = validate_into(_Header, data, "", problems)
    raw_levels = _list_at(data, "levels")
    levels = _validate_each(Level, raw_levels, _level_label, problems)
    items, keys = _validate_items(_list_at(data, "items"), problems)
    migrations = _validate_each(
        Migration, _list_at(data, "migrations"), lambda i, _: f"migrations[{i}]", problems
    )
    raw_version = data.get("version")
    version = raw_version if type(raw_version) is int else None  # None: already reported
    all_levels_valid = len(levels) == len(raw_levels) and isinstance(data.get("levels"), list)
    problems.extend(
        structure_problems(
            levels,
            items,
            migrations,
            version,
            keys=keys,
            check_membership=all_levels_valid,
        )
    )

    if problems or not isinstance(header, _Header):
        raise _fail(source, problems or ["the checklist is invalid"])
    return Checklist(
        title=header.title,
        version=header.version,
        levels=tuple(level for _, level in levels),
        items=tuple(item for _, item in items),
        migrations=tuple(migration for _, migration in migrations),
    )


def _load_mapping(text: str, source: str) -> dict[Any, Any]:
    """The file's top-level mapping, or every reason there is none."""
    try:
        data = yaml.load(text, Loader=StrictLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        raise _fail(source, [describe_yaml_error(exc)]) from None
    except RecursionError:
        raise _fail(source, [TOO_DEEP]) from None
    if nesting_depth(data) > MAX_NESTING:
        raise _fail(source, [TOO_DEEP])
    if data is None:
        raise _fail(source, ["the file is empty; expected title, version, levels and items"])
    if not isinstance(data, dict):
        raise _fail(source, [f"the top level must be a mapping, got {show_value(data)}"])
    return data


def _level_label(index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"levels[{index}]" + (f" ({name})" if isinstance(name, str) and name else "")


_Record = TypeVar("_Record", Level, Migration)


def _validate_each(
    model: type[_Record],
    raws: list[Any],
    label: Callable[[int, Any], str],
    problems: list[str],
) -> list[tuple[int, _Record]]:
    """The records that validate, with their index in the file; the others' problems noted."""
    valid: list[tuple[int, _Record]] = []
    for index, raw in enumerate(raws):
        record = validate_into(model, raw, label(index, raw), problems)
        if isinstance(record, model):
            valid.append((index, record))
    return valid


def _validate_items(
    raws: list[Any], problems: list[str]
) -> tuple[list[tuple[int, ChecklistItem]], list[tuple[int, str]]]:
    """The items that validate, and every item's key (even an invalid item's, for duplicates)."""
    items: list[tuple[int, ChecklistItem]] = []
    keys: list[tuple[int, str]] = []
    for index, raw in enumerate(raws):
        key = raw.get("key") if isinstance(raw, dict) else None
        if isinstance(key, str):
            keys.append((index, key))
        label = item_label(index, key)
        item = validate_into(ChecklistItem, raw, label, problems)
        if isinstance(item, ChecklistItem):
            items.append((index, item))
            if item.key.startswith(RESERVED_KEY_PREFIX):
                problems.append(
                    f'{label}: key "{item.key}" uses the "{RESERVED_KEY_PREFIX}" prefix, which is '
                    "reserved for items you add yourself in Notion"
                )
    return items, keys
