"""This request's launch: its EHR access and its one evaluation, made once and shared.

One EhrAccess per request means one token state: a refresh made while the page reads the chart
is what the write-back then uses, with no second refresh and no stale token. One evaluation per
request means the chart, the program panel and the write-back panel (or a POST's writes) show
and act on the same reading of the patient, read from the EHR once.
"""

from __future__ import annotations

from flask import g

from smartapp.ehr.access import EhrAccess
from smartapp.ehr.evaluation import LaunchEvaluation, evaluate_launch
from smartapp.services import Services
from smartapp.web.session import current_session

_ACCESS_KEY = "smartapp_ehr_access"
_EVALUATION_KEY = "smartapp_launch_evaluation"


def request_access(app: Services) -> EhrAccess:
    """This request's EhrAccess (SessionMissing or SessionExpired without a live session)."""
    current = current_session(app.sessions)
    access = g.get(_ACCESS_KEY)
    if not isinstance(access, EhrAccess) or access.handle != current.handle:
        access = EhrAccess(app, current.handle, current.session)
        setattr(g, _ACCESS_KEY, access)
    return access


def request_evaluation(app: Services) -> LaunchEvaluation:
    """This request's evaluation of the launch's patient: read and evaluated on first use."""
    access = request_access(app)
    found = g.get(_EVALUATION_KEY)
    if isinstance(found, tuple) and found[0] == access.handle:
        evaluation: LaunchEvaluation = found[1]
        return evaluation
    evaluation = evaluate_launch(app, access)
    setattr(g, _EVALUATION_KEY, (access.handle, evaluation))
    return evaluation
