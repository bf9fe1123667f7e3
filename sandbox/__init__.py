"""The bundled sandbox EHR: FHIR server wrapper, synthetic patients, SMART auth server and chart."""
