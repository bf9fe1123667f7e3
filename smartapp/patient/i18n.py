"""The patient view's languages: English and Spanish, from a switch or the browser (Flask-Babel).

Catalogs live in smartapp/translations (the .po files are kept in the repository, the .mo files
are compiled by scripts/install). The prescriber's pages are in English and do not translate.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Flask, request
from flask_babel import Babel, format_date, get_locale

LANGUAGES = ("en", "es")
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
# "Tuesday 8 December" / "martes 8 de diciembre" (CLDR patterns).
DATE_PATTERNS = {"en": "EEEE d MMMM", "es": "EEEE d 'de' MMMM"}


def chosen_language() -> str:
    """`lang` in the query (the page's switch) if it names a language, else the browser's."""
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def init_languages(app: Flask) -> None:
    """Flask-Babel on `app`, choosing each request's language with chosen_language."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = LANGUAGES[0]
    Babel(app, locale_selector=chosen_language)


def language() -> str:
    """This request's language code."""
    locale = get_locale()
    return locale.language if locale is not None else LANGUAGES[0]


def long_date(day: date) -> str:
    """The day with its weekday, in this request's language ("Tuesday 8 December")."""
    return str(format_date(day, DATE_PATTERNS.get(language(), DATE_PATTERNS["en"])))
