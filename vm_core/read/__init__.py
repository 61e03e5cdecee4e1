"""The read side: read-only sessions through a scope (reader), the one path to scores (scores), what the
app and reports show (review, quarantine, roles), the audit of what is published (audit), and serving
the app only where someone chose to (serving). Nothing here writes data.
"""
