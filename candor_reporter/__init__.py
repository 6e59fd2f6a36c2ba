"""Candor's reporter client: the protocol on plain data (``protocol``), the command-line client
(``cli``, ``candor report``) and the file cleaner (``metadata``). It needs ``crypto/`` and click,
never Flask or the server's code, so a reporter can install and check it without the server."""
