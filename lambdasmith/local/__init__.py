"""The local platform: what AWS runs for us in the cloud, on one machine."""
