"""Shell runtime: bash handlers as Lambda functions on the provided.al2023 custom runtime.

runtime/bootstrap   the custom-runtime bootstrap (one executable file, Python standard library only)
runtime/helpers.sh  what a handler sources: read the event with jq, build responses, log
examples/           health, echo_request, github_traffic
"""
