"""Run the project's Airflow DAGs on this machine: PostgreSQL, the sandbox and Airflow 3.

`python -m local_airflow` (with `orchestrate` and `orchestrate/airflow/dags` on PYTHONPATH, as
`make orchestrate` does) starts everything; the orchestration test uses the same pieces.
"""
