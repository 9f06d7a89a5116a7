"""Stored-video jobs (Start*/Get*): persisted in the data directory, run in the background.

store.py keeps each job's request, status and results; runner.py runs them on worker
threads of the server process and re-runs, after a restart, the ones a killed process
left IN_PROGRESS; one module per job type turns a video into its results.
"""
