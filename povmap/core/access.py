"""Who may do what: the four roles, the user a session acts for, and the one table of what each role may do.

Every page draws only the controls its user may use, and every operation that changes shared state checks the
same table again (:func:`require`), so a hand-made request cannot do what the page does not offer.

Roles form a ladder (each has the rights of the ones below):

- **guest**: not signed in. Public TPMAP maps, profiles, compare and exports; household figures only when the
  admin allows guests to see them.
- **analyst**: household views, pilot scenarios of their own.
- **steward** (data steward) for named provinces: import, check, delete and publish household and counts files
  whose areas all lie in those provinces.
- **admin**: roles, Area Managers, the server's default datasets, the audit log; every province.

A role comes from the identity provider's group claim (``povmap-admin``, ``povmap-analyst``,
``povmap-steward-46``: one group per province) or from the admin-managed table of grants; the higher one holds,
and a steward's provinces are the union of both. Without sign-in configured the app runs for one person on
their own machine (:data:`LOCAL_USER`, an admin); the command line acts as the server's operator (:data:`OPERATOR`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from povmap.core.errors import PovmapError


class Role(StrEnum):
    GUEST = "guest"
    ANALYST = "analyst"
    STEWARD = "steward"
    ADMIN = "admin"


LADDER = (Role.GUEST, Role.ANALYST, Role.STEWARD, Role.ADMIN)


class Action(StrEnum):
    VIEW_HOUSEHOLDS = "view_households"
    SAVE_SCENARIO = "save_scenario"
    MANAGE_DATA = "manage_data"  # import, check, delete, publish: bound to the steward's provinces
    EDIT_AREA_MANAGERS = "edit_area_managers"
    MANAGE_ROLES = "manage_roles"
    SET_DEFAULTS = "set_defaults"
    READ_AUDIT = "read_audit"


MIN_ROLE = {
    Action.VIEW_HOUSEHOLDS: Role.ANALYST,
    Action.SAVE_SCENARIO: Role.ANALYST,
    Action.MANAGE_DATA: Role.STEWARD,
    Action.EDIT_AREA_MANAGERS: Role.ADMIN,
    Action.MANAGE_ROLES: Role.ADMIN,
    Action.SET_DEFAULTS: Role.ADMIN,
    Action.READ_AUDIT: Role.ADMIN,
}
GROUP_PREFIX = "povmap-"
_STEWARD_GROUP = re.compile(r"povmap-steward-(\d{2})")
_PROVINCE = re.compile(r"\d{2}")


class AccessDenied(PovmapError):
    """The user's role does not allow this (raised by every guarded operation, whatever the page showed)."""


@dataclass(frozen=True)
class User:
    """Whom a session acts for. ``id`` is stable across sign-ins (the e-mail address, else the provider's
    subject); ``provinces`` are a steward's (an admin has all)."""

    id: str
    name: str
    role: Role
    provinces: frozenset[str] = field(default_factory=frozenset)
    signed_in: bool = False
    local: bool = False  # the one person of a server without sign-in
    guests_see_households: bool = False  # the admin's setting, for a guest

    def can(self, action: Action, provinces: Iterable[str] | None = None) -> bool:
        """Whether this user may do ``action``; for data, on a dataset covering ``provinces``."""
        if action == Action.VIEW_HOUSEHOLDS and self.role == Role.GUEST and self.guests_see_households:
            return True
        if _rank(self.role) < _rank(MIN_ROLE[action]):
            return False
        if action == Action.MANAGE_DATA and self.role != Role.ADMIN and provinces is not None:
            wanted = set(provinces)
            return bool(wanted) and wanted <= self.provinces
        return True

    @property
    def label(self) -> str:
        return self.name or self.id


LOCAL_USER = User(id="local", name="", role=Role.ADMIN, local=True)
OPERATOR = User(id="operator", name="", role=Role.ADMIN, local=True)  # the command line, benches and tests


def guest(*, households: bool = False) -> User:
    return User(id="guest", name="", role=Role.GUEST, guests_see_households=households)


def require(user: User, action: Action, provinces: Iterable[str] | None = None) -> None:
    """Raise :class:`AccessDenied` unless ``user`` may do ``action`` (on ``provinces``)."""
    provinces = None if provinces is None else sorted(set(provinces))
    if not user.can(action, provinces):
        if action == Action.MANAGE_DATA and provinces is not None and user.can(action):
            outside = ", ".join(p for p in provinces if p not in user.provinces) or "–"
            raise AccessDenied("error.access.provinces", provinces=outside)
        raise AccessDenied(f"error.access.{action}")


@dataclass(frozen=True)
class Grant:
    """One row of the admin-managed table: a role for a user id (e-mail), with a steward's provinces."""

    user_id: str
    role: Role
    provinces: frozenset[str] = field(default_factory=frozenset)


def user_id_of(claims: Mapping) -> str:
    """The stable id of a signed-in person: the e-mail address (lower case), else the provider's subject."""
    email = str(claims.get("email") or "").strip().lower()
    return email or str(claims.get("sub") or "").strip()


def roles_from_groups(groups) -> tuple[Role, frozenset[str]]:
    """The highest role a group claim gives, and the steward's provinces in it."""
    if isinstance(groups, str):
        groups = groups.replace(",", " ").split()
    role, provinces = Role.GUEST, set()
    for g in groups or ():
        g = str(g).strip().lower()
        if m := _STEWARD_GROUP.fullmatch(g):
            provinces.add(m.group(1))
            role = _higher(role, Role.STEWARD)
        elif g.startswith(GROUP_PREFIX) and g.removeprefix(GROUP_PREFIX) in (Role.ANALYST, Role.ADMIN):
            role = _higher(role, Role(g.removeprefix(GROUP_PREFIX)))
    return role, frozenset(provinces)


def user_from_claims(claims: Mapping, grants: Iterable[Grant] = (), *, claim: str = "groups",
                     admins: Iterable[str] = ()) -> User:
    """The user of a signed-in session: the provider's claims, the admin's grants and the bootstrap admins
    (``POVMAP_ADMINS``, so a new server has an admin before anyone is granted a role)."""
    uid = user_id_of(claims)
    role, provinces = roles_from_groups(claims.get(claim))
    for g in grants:
        if g.user_id == uid:
            role, provinces = _higher(role, g.role), provinces | g.provinces
    if uid and uid in {a.strip().lower() for a in admins}:
        role = Role.ADMIN
    name = str(claims.get("name") or claims.get("preferred_username") or uid)
    return User(id=uid, name=name, role=role, provinces=frozenset(provinces), signed_in=True)


def clean_provinces(text: str | Iterable[str]) -> frozenset[str]:
    """Province codes from "46, 49" or a list; :class:`ValueError` naming the first that is no 2-digit code."""
    items = text.replace(",", " ").split() if isinstance(text, str) else [str(x).strip() for x in text]
    bad = next((p for p in items if not _PROVINCE.fullmatch(p)), None)
    if bad is not None:
        raise ValueError(bad)
    return frozenset(items)


def _rank(role: Role) -> int:
    return LADDER.index(role)


def _higher(a: Role, b: Role) -> Role:
    return a if _rank(a) >= _rank(b) else b
