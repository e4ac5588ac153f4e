"""The one exception type users see.

Every error a user can cause (a bad file, a bad option, a missing dataset) is raised as a
:class:`BitfoldError` whose message names the file, node or layer and says what was expected.
The CLI prints the message on one line and exits non-zero; anything else is a bug and keeps its
traceback.
"""


class BitfoldError(Exception):
    """An error in the user's input, with a message meant to be read by that user."""
