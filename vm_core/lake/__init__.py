"""The evaluation lake: immutable Parquet files committed by the store (storage), what a cycle's
files count (evidence), manifests for outside engines (external), sweeping, retention and erasure (upkeep).
"""
