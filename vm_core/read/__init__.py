"""The read side: read-only sessions through a scope (reader), the one path to scores (scores), the
published cells built on it (cells) and what is computed from them — gaps and changes (gaps, changes),
the Things That Matter roll-up (rollup), the method's sentences (findings) — response rates under the
same suppression (engagement), what the app and reports show (review, quarantine, roles), the audit of
what is published (audit), and serving the app only where someone chose to (serving). Nothing here
writes data.
"""
