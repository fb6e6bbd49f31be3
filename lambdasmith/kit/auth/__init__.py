"""Authentication: `jwt` (strict HS256 JSON Web Tokens)."""
