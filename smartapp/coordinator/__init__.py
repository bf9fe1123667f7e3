"""The clinic coordinator's worklist page: the latest stored run of an EHR, filtered and paged."""
