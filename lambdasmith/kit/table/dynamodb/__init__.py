"""The table port on DynamoDB: `table` (the backend), `marshal` (AttributeValues), `expressions`
(conditions, updates and key conditions compiled), `admin` (create and delete tables) and
`client` (the process's shared client)."""
