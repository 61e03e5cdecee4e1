"""Running: the steps of a run (pipeline), the one plan that runs them (orchestration), what a run
reports (report), erasing a person (participants) and checking an installation (doctor).
"""
