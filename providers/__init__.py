"""Provider plug-ins: one package per provider holding its API client and its emulator.

``base`` is the contract every provider meets, ``http`` the one place that builds HTTP clients,
``registry`` finds providers (built in, and third-party ones through the ``tether.providers``
entry-point group), ``sandbox`` mounts every emulator on one HTTP server.
"""
