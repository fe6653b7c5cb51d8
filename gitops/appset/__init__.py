"""ApplicationSets: generators produce parameter sets, templates turn each into an Application. Pure functions."""
