"""ApplicationSet generators: each turns its spec (and what it reads) into parameter sets."""
