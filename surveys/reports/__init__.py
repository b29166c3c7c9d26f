"""Reports and office-format exports of a study, built from selectors and `analysis`."""
