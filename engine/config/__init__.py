"""tether.yaml, version 1 (SPEC section 3): read, check, and turn into a frozen ``Config``.

Loading is offline and writes nothing. It reads ``tether.yaml`` and ``tether.d/*.yaml`` through
the guarded parser in ``engine.yamlsafe``, checks each file against ``schemas/config.schema.json``,
then checks what a schema cannot see (references between files, providers that are installed,
endpoints that would send a credential in clear text, secrets written where a reference belongs).
Every problem found is reported at once, each with ``file:line`` and what to do, in one
``ConfigError``: users fix a file in one round trip, not one error per run.

The package, in the order a file goes through it:

| module | does |
|---|---|
| ``sources`` | which files, their bytes and YAML; the report of problems in file and line order |
| ``schema`` | the JSON Schema: a compiled yes/no check, jsonschema to explain a failure |
| ``messages`` | schema errors as sentences a person can act on |
| ``references`` | merging files; references, providers, endpoints, stray secrets |
| ``build`` | the frozen ``Config`` from data that passed every check |
| ``secrets`` | ``${env:..}`` / ``${file:..}`` references, resolved only when a provider is called |
| ``load`` | ``load_config``, which runs the above in order |
"""

from engine.config.load import load_config
from engine.config.schema import SCHEMA_URL_COMMENT, schema_comment
from engine.config.secrets import MAX_SECRET_FILE_BYTES, parse_secret_ref, resolve_credentials
from engine.config.sources import CONFIG_DIR, CONFIG_FILE, MAX_FILE_BYTES, default_paths

__all__ = [
    "CONFIG_DIR",
    "CONFIG_FILE",
    "MAX_FILE_BYTES",
    "MAX_SECRET_FILE_BYTES",
    "SCHEMA_URL_COMMENT",
    "default_paths",
    "load_config",
    "parse_secret_ref",
    "resolve_credentials",
    "schema_comment",
]
