"""The secret port (`port`: the protocol and a read cache) and its backends: `sqlite` (embedded)
and `aws` (Secrets Manager, SSM Parameter Store)."""
