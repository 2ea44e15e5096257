"""Which datasets a user sees and may manage (the rules of :mod:`povmap.core.access` applied to the registry).

A built-in or published dataset is seen by everyone its kind allows (household files need the right to see
household figures); an unpublished import by its owner, the stewards of all its provinces and the admins.
Deleting and publishing need the data steward's role for every province the dataset covers.
"""
from __future__ import annotations

from povmap.core.access import Action, Role, User
from povmap.data.uploads.columns import KIND_HOUSEHOLDS
from povmap.data.uploads.datasets import DatasetInfo


def may_view_kind(user: User, kind: str) -> bool:
    """Whether ``user`` may view figures of this kind of dataset at all (household files need the right)."""
    return kind != KIND_HOUSEHOLDS or user.can(Action.VIEW_HOUSEHOLDS)


def can_see(user: User, info: DatasetInfo) -> bool:
    if not may_view_kind(user, info.kind):
        return False
    if info.builtin or info.published or user.role == Role.ADMIN:
        return not info.damaged or user.can(Action.MANAGE_DATA)
    return (bool(info.owner) and info.owner == user.id) or can_manage(user, info)


def can_manage(user: User, info: DatasetInfo) -> bool:
    """Delete, publish or take back: never a built-in; a steward only within their provinces."""
    return not info.builtin and user.can(Action.MANAGE_DATA, info.provinces)


def visible(infos: list[DatasetInfo], user: User) -> list[DatasetInfo]:
    return [d for d in infos if can_see(user, d)]
