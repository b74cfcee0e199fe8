"""The vendors' published API descriptions and fixtures the tests check the emulators against.

Data only, copied unchanged from public repositories (the Stripe spec is an extract); README.md
names the repository, path and commit of every file. ``SPECS`` is this folder.
"""

from pathlib import Path

SPECS = Path(__file__).resolve().parent
