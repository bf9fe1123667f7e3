"""GET /rules: the rules sheet, generated from the policy tables the engine applies.

It holds no patient data, no token and nothing from the EHR, so it needs no launch: a
pharmacist reviewing the rules can open it without an EHR session, and the chart links to it.
A GET changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from clozapine import POLICIES
from smartapp.rules.sheet import organisation_sheet, policy_sheet
from smartapp.services import current_services

bp = Blueprint("rules", __name__)


@bp.get("/rules")
def sheet() -> str:
    """Every policy's rows, newest policy first, then the organisation's program if it has one."""
    services = current_services()
    program = services.org.program
    today = services.today()  # the organisation's date decides which reviews are past
    sheets = [
        policy_sheet(policy, today)
        for policy in sorted(POLICIES.values(), key=lambda p: p.in_force_from, reverse=True)
    ]
    if program is not None:
        sheets.append(organisation_sheet(program))
    return render_template("rules.html", sheets=sheets)
