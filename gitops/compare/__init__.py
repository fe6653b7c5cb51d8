"""Comparing an Application's rendered targets with the live objects: tracking, normalisation, diff, ignore rules."""
