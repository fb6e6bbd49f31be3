"""Authentication: `jwt` (strict HS256 JSON Web Tokens), `oidc` (RS256 ID tokens of an OpenID
Connect issuer such as GitHub Actions, keys from its JWKS) and `rsa` (the RS256 signature check)."""
