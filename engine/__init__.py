"""tether's engine: configuration, the pure planning core, apply, rendering and the CLI.

The core is values in, values out: ``load_config`` -> ``Config``; providers -> ``Listing``;
``make_plan(config, listings, state)`` -> ``Plan``. Only ``apply`` and ``cli`` touch the world.
"""

__version__ = "0.1.0"
