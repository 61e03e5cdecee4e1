"""Findings: the sentences the method promises, from a cycle's published cells only.

"Middle management on both sides agree that *Issue resolution* is at 'Some way to go'", "Senior
leadership are divided about *Commercial arrangements*", "Contoso Services rates *KPIs* a level higher
than Northwind Council",
"*Openness* improved by 0.9 levels since Solve" — each with a stable key (an action's
``finding_key``), its evidence and the cells it cites, ranked. ``rules`` decides which (pure),
``wording`` writes them (pure), ``model`` holds them and ranks them, ``reading`` reads them from the
store and ``output`` prints them. docs/statistics.md ("Findings") documents every rule.
"""

from vm_core.read.findings.model import KINDS, CitedCell, Finding, FindingKind, finding_key
from vm_core.read.findings.output import format_findings
from vm_core.read.findings.reading import read_findings
from vm_core.read.output_formats import FORMATS

__all__ = [
    "FORMATS",
    "KINDS",
    "CitedCell",
    "Finding",
    "FindingKind",
    "finding_key",
    "format_findings",
    "read_findings",
]
