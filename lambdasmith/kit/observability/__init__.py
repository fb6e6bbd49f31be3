"""What a function tells its operators: `logs` (JSON log lines) and `metrics` (CloudWatch EMF)."""
