"""Key migrations of the checklist: checking them and following renames to the current key.

A migration `{version: N, keys: {old: new}}` says that version N of the checklist renamed `old`
to `new` (several old keys may point to one new key: a merge). Renames chain: if version 2 renamed
a to b and version 3 renamed b to c, then a resolves to c. Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sync.checklist import Migration


def _renames(
    migrations: Sequence[tuple[int, Migration]],
) -> tuple[dict[str, tuple[str, int]], list[str]]:
    """old key -> (new key, index of the migration); the first rename of a key wins."""
    renames: dict[str, tuple[str, int]] = {}
    problems: list[str] = []
    ordered = sorted(migrations, key=lambda pair: pair[1].version)
    for index, migration in ordered:
        for old, new in migration.keys.items():
            if old in renames and renames[old][0] != new:
                first_new, first_index = renames[old]
                problems.append(
                    f'migrations[{index}]: "{old}" is renamed to "{new}", but '
                    f'migrations[{first_index}] already renames it to "{first_new}"'
                )
                continue
            renames.setdefault(old, (new, index))
    return renames, problems


def _follow(old: str, renames: dict[str, tuple[str, int]]) -> tuple[list[str], bool]:
    """The chain of keys starting at `old`; True if the chain loops back on itself."""
    chain = [old]
    seen = {old}
    key = old
    while key in renames:
        key = renames[key][0]
        chain.append(key)
        if key in seen:
            return chain, True
        seen.add(key)
    return chain, False


def check_migrations(
    migrations: Sequence[tuple[int, Migration]],
    current_keys: Collection[str],
    version: int | None,
) -> list[str]:
    """One line per problem: future versions, old keys still in use, missing targets, cycles.

    `migrations` pairs each migration with its index in the file, for the messages; `version` is
    the checklist's version (None when it is itself invalid: no version check then).
    """
    problems: list[str] = []
    for index, migration in migrations:
        if version is not None and migration.version > version:
            problems.append(
                f"migrations[{index}]: version {migration.version} is newer than the "
                f"checklist's version {version}"
            )
        for old in migration.keys:
            if old in current_keys:
                problems.append(
                    f'migrations[{index}]: "{old}" is renamed but is still an item key; '
                    "remove the item or the rename"
                )
    renames, conflicts = _renames(migrations)
    problems.extend(conflicts)
    reported_cycles: set[frozenset[str]] = set()
    for old, (_new, index) in renames.items():
        if old in current_keys:
            continue  # already reported above
        chain, loops = _follow(old, renames)
        if loops:
            cycle = chain[chain.index(chain[-1]) :]
            if frozenset(cycle) not in reported_cycles:
                reported_cycles.add(frozenset(cycle))
                problems.append(
                    f"migrations[{index}]: the renames form a cycle: {' -> '.join(cycle)}"
                )
            continue
        if chain[1] not in current_keys and chain[1] not in renames:  # the chain breaks here
            problems.append(
                f'migrations[{index}]: "{old}" is renamed to "{chain[1]}", which is not an item key'
            )
    return problems


def build_migration_map(migrations: Sequence[Migration]) -> dict[str, str]:
    """Every old key -> the key it finally resolves to, following chains (cycles stop early)."""
    renames, _ = _renames(list(enumerate(migrations)))
    return {old: _follow(old, renames)[0][-1] for old in renames}
