"""The policy file: severities, roles, escalation matrix, channels and templates, validated."""

from tocsin.policy.loader import PolicyError, load_default_policy, load_policy, load_policy_file
from tocsin.policy.model import Policy
from tocsin.yamlfile import Problem

__all__ = [
    "Policy",
    "PolicyError",
    "Problem",
    "load_default_policy",
    "load_policy",
    "load_policy_file",
]
