"""Ingest: the connector contract and plugin host, and landed rows → evaluations (mapping, the
contract, columnar modelling, scrubbing free text).
"""
