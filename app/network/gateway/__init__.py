"""The Gateway API in traces: which HTTPRoute rule Envoy picks (:mod:`.matching`), what its
filters and weights do (:mod:`.filters`), and the Envoy proxy hop (:mod:`.proxy`)."""
