"""The table port (`port`: a small model of DynamoDB, and the base class every backend extends)
and its backends: `sqlite` (embedded) and `dynamodb`. Empty on purpose: importing the package
costs nothing; import the module you need."""
