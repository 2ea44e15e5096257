"""Dataset operations as a signed-in user does them: the role check (again, whatever the page showed), the
operation, and one audit row. The command line calls :mod:`povmap.data.uploads` directly as the operator."""
from __future__ import annotations

import os

from povmap.core.access import Action, User, require
from povmap.data import uploads as U
from povmap.data.uploads.visibility import can_see
from povmap.userdb import audit


def check_import(report: U.Report, *, by: User) -> None:
    """Raise :class:`AccessDenied` (naming the provinces) unless ``by`` may import this checked file: a steward
    only a file whose areas all lie in their provinces (a file with no known province: admins only)."""
    require(by, Action.MANAGE_DATA, U.report_provinces(report))


def import_as(report: U.Report, mode: str, *, by: User, db: str | os.PathLike, address: str = "",
              **fields) -> U.DatasetInfo:
    """Import a checked file for ``by`` (see :func:`check_import`). In local mode the new dataset becomes the
    default as before; a signed-in user's import changes nobody else's screen."""
    check_import(report, by=by)
    info = U.import_dataset(report, mode, owner=by.id, owner_name=by.name, activate=by.local, **fields)
    details = {"name": info.name, "kind": info.kind, "rows": info.rows_accepted, "provinces": info.provinces}
    if info.extra.get("rounds_in_file"):  # one file, several survey rounds: a dataset each (this is the latest)
        details["rounds"] = info.extra["rounds_in_file"]
    audit.record(db, by, "dataset_import", info.id, details, address=address)
    return info


def delete_as(dataset_id: str, *, by: User, db: str | os.PathLike, address: str = "") -> U.DatasetInfo:
    # From the listing, so that a damaged dataset (no readable manifest) can still be deleted, by an admin.
    info = next((d for d in U.list_datasets() if d.id == dataset_id and not d.builtin), None)
    if dataset_id in U.BUILTIN_IDS:
        raise U.DatasetError("error.dataset.builtin_delete")
    if info is None:
        raise U.DatasetError("error.dataset.unknown", id=dataset_id)
    require(by, Action.MANAGE_DATA, info.provinces)  # (a damaged dataset names none: admins only)
    U.delete_dataset(dataset_id)
    audit.record(db, by, "dataset_delete", dataset_id, {"name": info.name, "kind": info.kind}, address=address)
    return info


def publish_as(dataset_id: str, published: bool, *, by: User, db: str | os.PathLike,
               address: str = "") -> U.DatasetInfo:
    require(by, Action.MANAGE_DATA, U.get_dataset(dataset_id).provinces)
    info = U.set_published(dataset_id, published)
    audit.record(db, by, "dataset_publish" if published else "dataset_unpublish", dataset_id,
                 {"name": info.name, "kind": info.kind}, address=address)
    return info


def set_default_as(kind: str, dataset_id: str, *, by: User, db: str | os.PathLike, store=None,
                   address: str = "") -> None:
    """The dataset new sessions start with (admins; in local mode the one person's choice)."""
    require(by, Action.SET_DEFAULTS)
    if dataset_id not in U.BUILTIN_IDS:
        info = U.get_dataset(dataset_id, store=store)
        if not info.published and not by.local:
            raise U.DatasetError("error.dataset.default_unpublished", name=info.name)
    U.set_active(kind, dataset_id)
    audit.record(db, by, "default_dataset", kind, {"dataset": dataset_id}, address=address)


def session_ids(by: User, wanted: dict[str, str], *, store=None) -> dict[str, str]:
    """The datasets a session reads per kind: its own choice if ``by`` may see it, else the server's default if
    they may, else the built-in."""
    out = {}
    for kind in U.KINDS:
        for candidate in (wanted.get(kind), U.active_id(kind)):
            if candidate and _seen(by, candidate, store):
                out[kind] = candidate
                break
        else:
            out[kind] = U.BUILTIN[kind]
    return out


def _seen(by: User, dataset_id: str, store) -> bool:
    try:
        return can_see(by, U.get_dataset(dataset_id, store=store))
    except U.DatasetError:
        return False
