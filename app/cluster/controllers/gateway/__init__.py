"""Envoy Gateway, the Gateway API implementation every sandbox runs: attachment and status
(:mod:`.attachment`, :mod:`.hostnames`), the proxies it deploys per Gateway (:mod:`.infra`) and
the status it writes (:mod:`.status`)."""
