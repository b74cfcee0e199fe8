"""``provider: http``: a REST vendor described entirely by the account's options.

``options.OPTIONS_SCHEMA`` is the JSON Schema of those options; docs/http-provider.md explains
every key. ``emulator.HttpVendorEmulator`` serves vendors described in a sandbox scenario.
"""
