"""CIDR blocks more than one stack spells."""

ANYWHERE_IPV4 = "0.0.0.0/0"
"""Every IPv4 address: default routes (10-network) and the tasks' egress to AWS APIs (30-security-groups)."""
