"""Scoring: pure statistics (statistics) and comparisons of two groups (comparisons), apart from
suppression (anonymity), apart from writing scores (publish); the audit of what is published is on
the read side (vm_core.read.audit).

The package's public names are importable from here: ``from vm_core.scoring import score_cycle``.
"""

from vm_core.scoring.anonymity import ALL, Group
from vm_core.scoring.comparisons import (
    BrunnerMunzel,
    Comparison,
    Magnitude,
    Verdict,
    benjamini_hochberg,
    brunner_munzel,
    compare,
    compare_family,
    superiority,
    van_der_eijk_agreement,
    vargha_delaney_magnitude,
)
from vm_core.scoring.publish import (
    SCORE_COLUMNS,
    CycleTallies,
    RelationshipTable,
    ScoreSummary,
    atom_tallies,
    effective_min_group_size,
    has_published_tally,
    published_tallies,
    relationship_table,
    score_cycle,
    stored_summary,
)
from vm_core.scoring.statistics import STATISTICS, Agreement, AgreementRule, consensus, mean_level

__all__ = [
    "ALL",
    "SCORE_COLUMNS",
    "STATISTICS",
    "Agreement",
    "AgreementRule",
    "BrunnerMunzel",
    "Comparison",
    "CycleTallies",
    "Group",
    "Magnitude",
    "RelationshipTable",
    "ScoreSummary",
    "Verdict",
    "atom_tallies",
    "benjamini_hochberg",
    "brunner_munzel",
    "compare",
    "compare_family",
    "consensus",
    "effective_min_group_size",
    "has_published_tally",
    "mean_level",
    "published_tallies",
    "relationship_table",
    "score_cycle",
    "stored_summary",
    "superiority",
    "van_der_eijk_agreement",
    "vargha_delaney_magnitude",
]
