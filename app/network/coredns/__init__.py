"""What CoreDNS's kubernetes plugin answers beyond Service and Pod records.

:mod:`app.network.coredns.apex` holds the zone's own records: its SOA (also sent in the
authority section of every empty or NXDOMAIN answer), its NS, the ``ns.dns`` name the SOA
points at, and the ``dns-version`` TXT record of the Kubernetes DNS specification.
"""
