"""The one exception type sani raises for bad input: the CLI prints it on one line and exits 2."""


class SaniError(Exception):
    """Bad input or an impossible request. The message names the file, line or field, never a sensitive value."""
