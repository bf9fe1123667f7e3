"""The population worklist: a Bulk Data export evaluated patient by patient, ordered by urgency."""

from smartapp.worklist.export import ExportError, ExportFile, export_files
from smartapp.worklist.run import WorklistRun, WorklistSummary, evaluate_export

__all__ = [
    "ExportError",
    "ExportFile",
    "WorklistRun",
    "WorklistSummary",
    "evaluate_export",
    "export_files",
]
