"""The patient's and caregiver's view: the same evaluation as the chart, in plain words."""
