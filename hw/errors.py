"""The one exception type users see.

Every error a user can cause (a bad file, a bad option, a missing dataset) is raised as a
:class:`BitfoldError` whose message names the file, node or layer and says what was expected.
The CLI prints the message on one line and exits 2; anything else is a bug and keeps its
traceback.
"""


class BitfoldError(Exception):
    """An error in the user's input, with a message meant to be read by that user.

    ``where`` optionally names the file, folder, layer or option at fault (``--json`` reports it
    beside the message); when it is not given the CLI names the file the message starts with, or
    the verb's argument.
    """

    def __init__(self, message: str, where=None):
        super().__init__(message)
        self.where = None if where is None else str(where)
