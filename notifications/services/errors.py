"""The one failure a service reports."""


class DeliveryError(Exception):
    """The destination did not take the notification; the message says which service and why, never a secret."""
