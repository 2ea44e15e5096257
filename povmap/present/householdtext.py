"""The household section of an area (profile page and brief) as text in a language: one wording for both."""
from __future__ import annotations

from dataclasses import dataclass

from povmap.core.i18n import t
from povmap.core.privacy import privacy_note, shown_count, shown_share
from povmap.core.thai import fmt_number
from povmap.core.vocab import TIERS


@dataclass(frozen=True)
class HouseholdText:
    """``message``: the section says only this (no file here, too few households, none); else the summary line,
    the tier table (``head``, ``rows`` of tier, households, %) and the privacy note."""

    message: str | None = None
    badge: str | None = None
    summary: str = ""
    head: tuple[str, ...] = ()
    rows: tuple[tuple[str, str, str], ...] = ()
    note: str = ""


def household_text(hh: dict | None, lang: str, *, withheld: bool = False) -> HouseholdText:
    """:func:`povmap.present.profile.build_profile`'s ``households`` as display text; ``withheld``: the user may
    not see household figures (sign-in and role)."""
    if withheld:
        return HouseholdText(t("profile.hh_withheld", lang))
    if hh is None:
        return HouseholdText(t("profile.no_households", lang))
    if hh["hidden"]:
        return HouseholdText(t("profile.hh_hidden", lang, k=hh["k"]))
    if hh["households"] == 0:
        return HouseholdText(t("profile.no_households_here", lang))
    k = hh["k"]
    summary = (t("profile.hh_summary", lang, households=fmt_number(hh["households"]),
                 members=shown_count(hh["members"], k))  # people can be hidden while households are not
               + " · " + t("profile.referred", lang, n=shown_count(hh["referred"], k)))
    rows = tuple((f"{n} {TIERS[n - 1].label(lang)}", shown_count(c, k), shown_share(s))
                 for n, c, s in hh["tiers"][["tier", "households", "share"]].itertuples(index=False))
    return HouseholdText(badge=t("synthetic.badge", lang) if hh["synthetic"] else None, summary=summary,
                         head=(t("ctl.tiers", lang), t("unit.households", lang), "%"), rows=rows,
                         note=privacy_note(k, lang))
