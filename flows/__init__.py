"""Prefect flows: thin orchestration over vm_core."""
