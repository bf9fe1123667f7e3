"""The documents the policy rows cite (see ../shared/docs/clozapine-monitoring.md, section 8)."""

from __future__ import annotations

from dataclasses import dataclass

from clozapine.policy import Citation

CONTRACT = "evaluation contract convention"
CLOZARIL_LABEL_URL = (
    "https://dailymed.nlm.nih.gov/dailymed/lookup.cfm?setid=90876802-0e3a-44c9-9ff7-1754dfbe736a"
)
FDA_REMS_2021_FAQ_URL = (
    "https://www.fda.gov/drugs/postmarket-drug-safety-information-patients-and-providers/"
    "frequently-asked-questions-clozapine-rems-modification"
)
REMS_ELIMINATED_URL = (
    "https://news.ashp.org/news/ashp-news/2025/02/27/fda-eliminates-clozapine-rems-program"
)


@dataclass(frozen=True, slots=True)
class LabelSections:
    """Where one label revision puts the rules the engine applies."""

    general_table: Citation
    ben_table: Citation
    baseline: Citation
    confirmation: Citation
    interruption: Citation


LABEL_2025 = LabelSections(
    general_table=Citation(
        "Clozaril prescribing information", "2.3", "Table 1", "6/2025", url=CLOZARIL_LABEL_URL
    ),
    ben_table=Citation(
        "Clozaril prescribing information", "2.4", "Table 2", "6/2025", url=CLOZARIL_LABEL_URL
    ),
    baseline=Citation(
        "Clozaril prescribing information", "2.1", None, "6/2025", url=CLOZARIL_LABEL_URL
    ),
    confirmation=Citation(
        "Clozaril prescribing information",
        "2.3",
        "Table 1 footnote",
        "6/2025",
        url=CLOZARIL_LABEL_URL,
    ),
    interruption=Citation(
        "Clozaril prescribing information", "2.6", None, "6/2025", url=CLOZARIL_LABEL_URL
    ),
)

LABEL_REMS_ERA = LabelSections(
    general_table=Citation(
        "Clozaril prescribing information",
        "5.1",
        "Table 2",
        "REMS era, 9/2015",
        url=CLOZARIL_LABEL_URL,
    ),
    ben_table=Citation(
        "Clozaril prescribing information",
        "5.1",
        "Table 3",
        "REMS era, 9/2015",
        url=CLOZARIL_LABEL_URL,
    ),
    baseline=Citation(
        "Clozaril prescribing information", "2.1", None, "REMS era, 9/2015", url=CLOZARIL_LABEL_URL
    ),
    confirmation=Citation(
        "Clozaril prescribing information",
        "5.1",
        "Table 2 footnote",
        "REMS era, 9/2015",
        url=CLOZARIL_LABEL_URL,
    ),
    interruption=Citation(
        "Clozaril prescribing information", "2.5", None, "REMS era, 9/2015", url=CLOZARIL_LABEL_URL
    ),
)

REMS_2015 = Citation(
    "Clozapine REMS program (FDA Drug Safety Communication 2015-09-15; Clozapine REMS FAQ)",
    "Prescriber certification, pharmacy certification and patient enrollment",
)
REMS_2015_RATIONALE = Citation(
    "Clozapine REMS program (Clozapine REMS FAQ)",
    "Treatment rationale for moderate or severe neutropenia",
)
REMS_2021 = Citation(
    "Clozapine REMS modification (FDA FAQ, 2021;"
    " NAMI / SMI Adviser Clozapine REMS Program Updates)",
    "Re-certification and re-enrollment from 2021-11-15",
    convention="37-day transition window to 2021-12-22",
    url=FDA_REMS_2021_FAQ_URL,
)
REMS_2021_LABS = Citation(
    "Clozapine REMS modification (NAMI / SMI Adviser Clozapine REMS Program Updates, 2021)",
    "Re-enrollment with lab results completed within the past 30 days",
)
REMS_2021_PSF = Citation(
    "Clozapine REMS modification (FDA FAQ, 2021; Clozapine REMS FAQ)",
    "Patient Status Form submitted monthly",
    convention="37-day look-back",
    url=FDA_REMS_2021_FAQ_URL,
)
REMS_2021_RATIONALE = Citation(
    "Clozapine REMS modification (Clozapine REMS FAQ)",
    "Treatment rationale for moderate or severe neutropenia",
)
REMS_ELIMINATED = Citation(
    "FDA statement of 2025-02-24 on the Clozapine REMS; REMS removal effective 2025-06-13",
    "Clozapine REMS eliminated; ANC monitoring per the prescribing information",
    url=REMS_ELIMINATED_URL,
)
