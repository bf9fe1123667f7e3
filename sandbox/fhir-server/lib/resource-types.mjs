/** The resource types the sandbox EHR serves: what the chart holds and what the app may write back. */

export const RESOURCE_TYPES = Object.freeze([
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Encounter',
  'Medication',
  'MedicationRequest',
  'Observation',
  'Condition',
  'RelatedPerson',
  'Flag',
  'Task',
  'DocumentReference',
  'Communication',
  'Provenance',
  'Group',
  // Orders placed from the chart's CDS Hooks cards (a CBC with differential).
  'ServiceRequest',
]);

const SUPPORTED = new Set(RESOURCE_TYPES);

/** True when the sandbox serves this resource type. */
export function isSupportedType(resourceType) {
  return SUPPORTED.has(resourceType);
}
