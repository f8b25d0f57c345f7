"""Names shared across the package: dims of its arrays and names of its plans."""

from __future__ import annotations

__all__ = [
    "AVERAGED",
    "BOUND",
    "BOUND_LABELS",
    "BUDGET_DIM",
    "MINIMAX",
    "REFERENCE",
    "RESERVED",
    "RISK_AVERSE",
    "SAMPLE",
    "SUCCESS",
    "VIEW",
    "WEIGHTED",
]

# dims
SAMPLE = "sample"
VIEW = "view"
BOUND = "bound"
BOUND_LABELS = ("lower", "upper")
#: The dim of a budget frontier.
BUDGET_DIM = "total_budget"

# plans the allocator names itself; a user's candidate plan may not take these names
AVERAGED = "averaged"
MINIMAX = "minimax"
WEIGHTED = "weighted minimax"
RISK_AVERSE = "risk-averse minimax"
REFERENCE = "reference"
SUCCESS = "success"
RESERVED = (AVERAGED, MINIMAX, WEIGHTED, RISK_AVERSE, REFERENCE, SUCCESS)
