"""lambdasmith: serverless systems on a lean kit."""

__version__ = "0.1.0"
