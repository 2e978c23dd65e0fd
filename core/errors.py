"""Errors of the monitor. Callers catch at the level they mean.

MonitorError                 anything the program reports to a person as a one-line message
 +-- ConfigError             a bad setting or config file
 +-- InputError              a bad command-line value (an unknown ward code, an invalid email)
 +-- SourceError             a source could not be fetched or parsed
 |    +-- PostcodesError     postcodes.io failed after its retries
 +-- DeliveryError           a message could not be handed to its transport
 +-- LockError               another scheduler holds the lock
 +-- StoreError              a database is missing, unreadable, not SQLite, read-only, full or locked
"""


class MonitorError(Exception):
    """Base of every error reported to a person."""


class ConfigError(MonitorError):
    """A setting or the config file is wrong."""


class InputError(MonitorError):
    """A value given on the command line is wrong."""


class SourceError(MonitorError):
    """A source could not be fetched or parsed."""


class PostcodesError(SourceError):
    """postcodes.io did not answer after the retries."""


class DeliveryError(MonitorError):
    """A message could not be handed to the transport."""


class LockError(MonitorError):
    """Another scheduler is running on these databases."""


class StoreError(MonitorError):
    """A database cannot be opened, read or written."""
