"""Local stand-ins for the services our systems call (NuGet, GitHub), for tests on 127.0.0.1."""
