"""Amazon Selling Partner API provider (``amazon-sp``): Shipping v2 carrier accounts as ``carrier``
bindings, Notifications subscriptions and destinations as ``webhook`` bindings, and an emulator of
both APIs plus Login with Amazon for the sandbox."""
