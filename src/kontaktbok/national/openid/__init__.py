"""URLs of the national OpenID Connect login, allauth's with kontaktbok's adapter."""
