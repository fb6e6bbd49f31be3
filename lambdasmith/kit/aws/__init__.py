"""A lean AWS client: Signature V4 and the AWS JSON protocol over `kit.http.wire`.

boto3 costs a cold start ~300 ms (bench/coldstart.py); the handful of JSON-protocol calls our
backends make need ~300 lines. Signatures are proven equal to botocore's in tests/kit/aws/test_sigv4.py.
"""
