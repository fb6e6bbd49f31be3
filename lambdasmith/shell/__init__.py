"""Shell runtime: bash handlers as Lambda functions on the provided.al2023 custom runtime.

runtime/bootstrap     the custom-runtime bootstrap (bash and coreutils only: what provided.al2023 ships)
runtime/bootstrap.py  the same bootstrap in Python (standard library only), an option
runtime/helpers.sh  what a handler sources: read the event with jq, build responses, log
examples/           health, echo_request, github_traffic
"""
