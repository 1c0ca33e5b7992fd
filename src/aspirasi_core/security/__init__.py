"""Security primitives of the core: password hashing, tokens, NIK and payload encryption."""
