"""Load the policy file: the shipped default or an organisation's own."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tocsin.policy.model import Policy
from tocsin.yamlfile import Problem, YamlFileError, load_validated

DEFAULT_POLICY = "default.yaml"


class PolicyError(YamlFileError):
    """The policy cannot be used; `problems` lists every reason."""

    kind = "policy"


def load_policy(text: str, source: str = "<policy>") -> Policy:
    """Parse and validate policy YAML; raises PolicyError listing every problem found."""
    return load_validated(text, source, Policy, PolicyError)


def load_policy_file(path: str | Path) -> Policy:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(
            str(path), [Problem("", None, f"cannot read the file: {exc.strerror}")]
        ) from None
    return load_policy(text, str(path))


def default_policy_text() -> str:
    return resources.files("tocsin.policy").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")


def load_default_policy() -> Policy:
    """The policy shipped with Tocsin, reproducing the product spec's tables."""
    return load_policy(default_policy_text(), f"tocsin/policy/{DEFAULT_POLICY}")
