"""The queue port (`port`: SQS standard-queue semantics and the shared checks) and its backends:
`sqlite` (embedded) and `sqs`."""
